import Foundation
import Shared
import Testing

@Suite("Shared protocol types")
struct SharedTypesTests {
    @Test func errorBodyHasTheOneJSONShape() throws {
        let data = try JSONEncoder().encode(ErrorBody(code: "not_found", message: "No job."))
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let error = try #require(object["error"] as? [String: String])
        #expect(error == ["code": "not_found", "message": "No job."])
        #expect(try JSONDecoder().decode(ErrorBody.self, from: data) == ErrorBody(code: "not_found", message: "No job."))
    }

    @Test func principalScopesAndWireNames() throws {
        let p = Principal(kind: .apiKey, subject: "key_1", tenant: "t1", scopes: ["jobs:write"])
        #expect(p.hasScope("jobs:write"))
        #expect(!p.hasScope("admin"))
        #expect(Principal(kind: .service, subject: "s", tenant: "", scopes: ["*"]).hasScope("anything"))
        let json = String(decoding: try JSONEncoder().encode(p), as: UTF8.self)
        #expect(json.contains(#""kind":"api_key""#))
    }
}
