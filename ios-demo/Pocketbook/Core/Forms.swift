// Why this file exists: the record-visit and raise-concern screens edit a form that must be
// autosaved (encrypted) and restored after the app locks. The generated drafts (`VisitDraft`,
// `ConcernDraft`) are not Codable, so these are the app's own Codable form states, each with
// one conversion into the core's draft.

import Foundation

/// A young person chosen on a form: the id the core wants and the name the form shows.
struct PersonRef: Codable, Hashable, Identifiable, Sendable {
    let id: Uuid
    let name: String
}

extension PersonRef {
    /// The reference for a young person from the core.
    init(_ person: YoungPerson) {
        self.init(id: person.id, name: "\(person.firstName) \(person.lastName)")
    }
}

// MARK: - Visit

/// The record-visit form.
struct VisitForm: Equatable, Sendable {
    var youngPeople: [PersonRef] = []
    var kind: VisitKind = .welfareCheck
    var promptedBy: PromptedBy = .school
    var start: Date = Date().addingTimeInterval(-30 * 60)
    var end: Date = Date()
    var place = ""
    /// Who was present, comma-separated.
    var present = ""
    var outcome: VisitOutcome = .noConcerns
    var supportGiven: Set<SupportGiven> = []
    var narrative = ""
    var hasFollowUp = false
    var followUp: Date = Calendar.current.date(byAdding: .day, value: 7, to: Date()) ?? Date()

    /// The core's draft of this form (the core validates it).
    func draft() -> VisitDraft {
        VisitDraft(
            kind: kind,
            promptedBy: promptedBy,
            youngPersonIds: youngPeople.map(\.id),
            start: start,
            end: end,
            place: place.trimmed,
            present: present.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty },
            outcome: outcome,
            supportGiven: SupportGiven.all.filter { supportGiven.contains($0) },
            narrative: narrative.trimmed,
            followUp: hasFollowUp ? CalendarDate.string(from: followUp) : nil
        )
    }
}

extension VisitForm: Codable {
    private enum CodingKeys: String, CodingKey {
        case youngPeople, kind, promptedBy, start, end, place, present, outcome, supportGiven, narrative
        case hasFollowUp, followUp
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let blank = VisitForm()
        youngPeople = try c.decode([PersonRef].self, forKey: .youngPeople)
        kind = c.choice(VisitKind.self, .kind) ?? blank.kind
        promptedBy = c.choice(PromptedBy.self, .promptedBy) ?? blank.promptedBy
        start = try c.decode(Date.self, forKey: .start)
        end = try c.decode(Date.self, forKey: .end)
        place = try c.decode(String.self, forKey: .place)
        present = try c.decode(String.self, forKey: .present)
        outcome = c.choice(VisitOutcome.self, .outcome) ?? blank.outcome
        supportGiven = Set(c.choices(SupportGiven.self, .supportGiven))
        narrative = try c.decode(String.self, forKey: .narrative)
        hasFollowUp = try c.decode(Bool.self, forKey: .hasFollowUp)
        followUp = try c.decode(Date.self, forKey: .followUp)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(youngPeople, forKey: .youngPeople)
        try c.encode(kind.key, forKey: .kind)
        try c.encode(promptedBy.key, forKey: .promptedBy)
        try c.encode(start, forKey: .start)
        try c.encode(end, forKey: .end)
        try c.encode(place, forKey: .place)
        try c.encode(present, forKey: .present)
        try c.encode(outcome.key, forKey: .outcome)
        try c.encode(SupportGiven.all.filter { supportGiven.contains($0) }.map(\.key), forKey: .supportGiven)
        try c.encode(narrative, forKey: .narrative)
        try c.encode(hasFollowUp, forKey: .hasFollowUp)
        try c.encode(followUp, forKey: .followUp)
    }
}

// MARK: - Concern

/// One THRIVE element on the form.
struct ThriveElementForm: Codable, Equatable, Sendable {
    var finding = ""
    var rationale = ""

    var element: ThriveElement {
        ThriveElement(finding: finding.trimmed, rationale: rationale.trimmed)
    }
}

/// The THRIVE assessment on the form.
struct ThriveForm: Codable, Equatable, Sendable {
    var threat = ThriveElementForm()
    var harm = ThriveElementForm()
    var risk = ThriveElementForm()
    var investigation = ThriveElementForm()
    var vulnerability = ThriveElementForm()
    var engagement = ThriveElementForm()

    /// How many elements still lack the rationale the core requires.
    var missingRationales: Int {
        [threat, harm, risk, investigation, vulnerability, engagement].filter { $0.rationale.trimmed.isEmpty }.count
    }

    var assessment: Thrive {
        Thrive(
            threat: threat.element,
            harm: harm.element,
            risk: risk.element,
            investigation: investigation.element,
            vulnerability: vulnerability.element,
            engagement: engagement.element
        )
    }
}

/// The raise-concern form.
struct ConcernForm: Equatable, Sendable {
    var youngPeople: [PersonRef] = []
    var happenedAt: Date = Date()
    var category: ConcernCategory = .neglect
    var account = ""
    var childsWords = ""
    var riskText = ""
    var actionText = ""
    var thrive = ThriveForm()
    /// Required by the core; nil until the officer chooses.
    var risk: Risk?
    var marking: Marking = .officialSensitive

    /// The core's draft of this form (the core validates it).
    func draft() -> ConcernDraft {
        ConcernDraft(
            youngPersonIds: youngPeople.map(\.id),
            happenedAt: happenedAt,
            category: category,
            account: account.trimmed,
            childsWords: childsWords.trimmed.isEmpty ? nil : childsWords.trimmed,
            riskText: riskText.trimmed,
            actionText: actionText.trimmed,
            thrive: thrive.assessment,
            risk: risk,
            marking: marking
        )
    }
}

extension ConcernForm: Codable {
    private enum CodingKeys: String, CodingKey {
        case youngPeople, happenedAt, category, account, childsWords, riskText, actionText, thrive, risk, marking
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let blank = ConcernForm()
        youngPeople = try c.decode([PersonRef].self, forKey: .youngPeople)
        happenedAt = try c.decode(Date.self, forKey: .happenedAt)
        category = c.choice(ConcernCategory.self, .category) ?? blank.category
        account = try c.decode(String.self, forKey: .account)
        childsWords = try c.decode(String.self, forKey: .childsWords)
        riskText = try c.decode(String.self, forKey: .riskText)
        actionText = try c.decode(String.self, forKey: .actionText)
        thrive = try c.decode(ThriveForm.self, forKey: .thrive)
        risk = c.choice(Risk.self, .risk)
        marking = c.choice(Marking.self, .marking) ?? blank.marking
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(youngPeople, forKey: .youngPeople)
        try c.encode(happenedAt, forKey: .happenedAt)
        try c.encode(category.key, forKey: .category)
        try c.encode(account, forKey: .account)
        try c.encode(childsWords, forKey: .childsWords)
        try c.encode(riskText, forKey: .riskText)
        try c.encode(actionText, forKey: .actionText)
        try c.encode(thrive, forKey: .thrive)
        try c.encodeIfPresent(risk?.key, forKey: .risk)
        try c.encode(marking.key, forKey: .marking)
    }
}

// MARK: - Helpers

private extension KeyedDecodingContainer {
    /// The case stored under `key` by name, or nil when absent or unknown.
    func choice<C: Choice>(_ type: C.Type, _ key: Key) -> C? {
        guard let name = try? decodeIfPresent(String.self, forKey: key) else { return nil }
        return C.from(key: name)
    }

    /// The known cases stored under `key` by name (unknown names are dropped).
    func choices<C: Choice>(_ type: C.Type, _ key: Key) -> [C] {
        let names: [String] = (try? decodeIfPresent([String].self, forKey: key)) ?? []
        return names.compactMap { C.from(key: $0) }
    }
}
