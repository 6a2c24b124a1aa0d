// Why this file exists: the visit list is the app's home screen: the officer's visits, most
// recent first, each with the names of the young people visited. It reloads whenever the core
// reports changed data (a local write or a sync).

import Foundation
import Observation

/// The visits and the names to show with them, read in one go off the main thread.
struct VisitPage: Sendable {
    var visits: [Visit] = []
    var names: [Uuid: String] = [:]
}

/// The visit list.
@MainActor
@Observable
final class VisitListViewModel {
    private(set) var page = VisitPage()
    private(set) var isLoading = false
    private(set) var hasLoaded = false
    private(set) var errorMessage: String? = nil

    let notebook: OpenNotebook

    init(notebook: OpenNotebook) {
        self.notebook = notebook
    }

    var visits: [Visit] { page.visits }

    /// The young people of `visit`, by name.
    func people(of visit: Visit) -> [PersonRef] {
        visit.youngPersonIds.map { PersonRef(id: $0, name: page.names[$0] ?? "Unknown young person") }
    }

    /// Reads the visits again.
    func reload() async {
        isLoading = true
        defer { isLoading = false }
        do {
            page = try await notebook.call { book -> VisitPage in
                let visits = try book.visits(youngPersonId: nil)
                var names: [Uuid: String] = [:]
                for id in Set(visits.flatMap(\.youngPersonIds)) {
                    if let person = try? book.youngPerson(id: id) {
                        names[id] = "\(person.firstName) \(person.lastName)"
                    }
                }
                return VisitPage(visits: visits, names: names)
            }
            errorMessage = nil
        } catch {
            errorMessage = notebook.describe(error)
        }
        hasLoaded = true
    }
}
