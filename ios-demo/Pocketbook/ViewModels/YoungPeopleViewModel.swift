// Why this file exists: officers find a child by name — to open their chronology, or to attach
// them to a visit or a concern. This is the search behind both the Young people tab and the
// picker on the forms (names contain every word typed; the core does the matching).

import Foundation
import Observation

/// A search over the young people on this device.
@MainActor
@Observable
final class YoungPeopleViewModel {
    /// What the officer typed.
    var query = ""
    private(set) var people: [YoungPerson] = []
    private(set) var hasLoaded = false
    private(set) var errorMessage: String? = nil

    let notebook: OpenNotebook

    init(notebook: OpenNotebook) {
        self.notebook = notebook
    }

    /// Searches after a short pause in typing (the view cancels it on the next keystroke).
    func searchAfterPause() async {
        do {
            try await Task.sleep(for: .milliseconds(250))
        } catch {
            return
        }
        await search()
    }

    /// Searches now.
    func search() async {
        let query = self.query.trimmed
        do {
            people = try await notebook.call { try $0.findYoungPeople(query: query) }
            errorMessage = nil
        } catch {
            errorMessage = notebook.describe(error)
        }
        hasLoaded = true
    }
}
