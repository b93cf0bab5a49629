import BulkheadHTTP
import BulkheadService
import Shared

extension APICoreAPI {
    /// Longest report range, in days.
    static let maximumUsageDays = 366

    /// `GET /v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD&group_by=model|day` (UTC days, inclusive;
    /// defaults: the last 30 days, grouped by day).
    func registerUsageRoutes(into router: inout Router) {
        router.get("/v1/usage") { [self] request, context in
            let p = try Access.require(context, scope: "usage:read")
            let q = request.queryParameters
            let today = Timestamps.dayNumber(Timestamps.day(Timestamps.nowMillis())) ?? 0
            func day(_ name: String, default value: Int) throws(HTTPError) -> Int {
                guard let text = q[name] else { return value }
                guard let n = Timestamps.dayNumber(text) else {
                    throw HTTPError.badRequest("'\(name)' must be a date like 2026-01-31 (UTC).", code: "invalid_parameter")
                }
                return n
            }
            let to = try day("to", default: today)
            let from = try day("from", default: to - 29)
            guard from <= to else { throw HTTPError.badRequest("'from' must not be after 'to'.", code: "invalid_parameter") }
            guard to - from < Self.maximumUsageDays else {
                throw HTTPError.badRequest("A report spans at most \(Self.maximumUsageDays) days.", code: "invalid_parameter")
            }
            let groupText = q["group_by"] ?? "day"
            guard let grouping = UsageStore.Grouping(rawValue: groupText) else {
                throw HTTPError.badRequest("'group_by' must be \"model\" or \"day\".", code: "invalid_parameter")
            }
            let (fromText, toText, tenant) = (Timestamps.dayText(from), Timestamps.dayText(to), p.tenant)
            let report = try await BlockingWork.run { [usage] in
                try usage.report(tenant: tenant, from: fromText, to: toText, groupBy: grouping)
            }
            return JSONInput.response(.object([
                "object": .string("usage_report"), "from": .string(fromText), "to": .string(toText), "group_by": .string(grouping.rawValue),
                "totals": .object(report.totals.json),
                "groups": .array(report.groups.map { key, totals in
                    var o = totals.json
                    o["key"] = .string(key)
                    return .object(o)
                }),
            ]))
        }
    }
}
