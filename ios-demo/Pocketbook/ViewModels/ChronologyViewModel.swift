// Why this file exists: reading a child's chronology is a disclosure the law wants justified
// (DPA 2018 s62: every consultation logged with its reason). The screen therefore asks why
// before it shows anything; the core logs a Consult with that reason on every `chronology`
// call. The entries are forgotten when the screen closes, so looking again asks again.

import Foundation
import Observation

/// Common reasons for consulting a chronology; "Other" asks for the officer's own words.
enum ConsultReason: String, CaseIterable, Identifiable, Sendable {
    case visitPreparation = "Preparing for a visit"
    case strategyMeeting = "Strategy meeting / MASH"
    case referral = "Making a referral"
    case supervision = "Supervision or review"
    case other = "Other"

    var id: Self { self }
}

/// A young person's chronology, behind its reason prompt.
@MainActor
@Observable
final class ChronologyViewModel {
    /// Where the screen is.
    enum Stage {
        /// Asking why (nothing shown yet).
        case askingReason
        /// The core is reading (and logging the consult).
        case loading
        /// The entries, oldest first.
        case shown([ChronologyEntry])
        /// The read failed.
        case failed(String)
    }

    /// Whose chronology.
    let person: PersonRef
    var reasonChoice: ConsultReason = .visitPreparation
    /// The officer's own reason when the choice is "Other".
    var otherReason = ""
    private(set) var stage: Stage = .askingReason

    private let notebook: OpenNotebook

    init(notebook: OpenNotebook, person: PersonRef) {
        self.notebook = notebook
        self.person = person
    }

    /// The reason the core will log.
    var reason: String {
        reasonChoice == .other ? otherReason.trimmed : reasonChoice.rawValue
    }

    var canShow: Bool {
        !reason.isEmpty && reason.count <= 500
    }

    /// Reads the chronology; the core logs a Consult with the reason.
    func show() async {
        guard canShow else { return }
        stage = .loading
        let id = person.id
        let reason = self.reason
        do {
            let entries = try await notebook.call { try $0.chronology(youngPersonId: id, reason: reason) }
            stage = .shown(entries)
        } catch {
            stage = .failed(notebook.describe(error))
        }
    }

    /// Forgets what was shown (the screen closed or the officer is done).
    func forget() {
        stage = .askingReason
        otherReason = ""
    }
}
