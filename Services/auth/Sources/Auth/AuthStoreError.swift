/// Storage outcomes the routes turn into specific answers.
enum AuthStoreError: Error, Equatable {
    case emailTaken
    case unknownPlan
}
