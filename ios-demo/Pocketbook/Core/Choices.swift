// Why this file exists: the generated enums (VisitKind, Risk, ConcernCategory, …) carry no
// list of their cases, no human label and no Codable conformance. Pickers need the first two,
// the encrypted drafts the third. This file adds them in one place, so a new case in the core
// shows up here as a compile error ("switch must be exhaustive") rather than a silent gap.
// The enums the core reads off the wire also have `.unknown`, for a value a newer app or server
// wrote: it has a label (it can be shown) but is never in `all` (it is never chosen; the core
// refuses a draft that holds it).

import Foundation

/// A generated enum the UI can list, label and store in a draft.
protocol Choice: Hashable, Sendable {
    /// Every case an officer may choose (never `.unknown`), in the order pickers show them.
    static var all: [Self] { get }
    /// What the officer sees.
    var label: String { get }
}

extension Choice {
    /// A stable name for drafts: the Swift case name (e.g. "welfareCheck").
    var key: String { String(describing: self) }

    /// The case whose `key` is `key`, if any.
    static func from(key: String) -> Self? {
        all.first { $0.key == key }
    }
}

extension VisitKind: Choice {
    static let all: [VisitKind] = [
        .welfareCheck, .foodParcel, .onlineSafetySupport, .signposting, .followUp, .cadetSupport, .noAccess,
    ]

    var label: String {
        switch self {
        case .welfareCheck: "Welfare check"
        case .foodParcel: "Food parcel"
        case .onlineSafetySupport: "Online safety support"
        case .signposting: "Signposting"
        case .followUp: "Follow-up"
        case .cadetSupport: "Cadet support"
        case .noAccess: "No access"
        case .unknown: "Unknown"
        }
    }
}

extension PromptedBy: Choice {
    static let all: [PromptedBy] = [.school, .council, .mash, .police, .parentOrSelf]

    var label: String {
        switch self {
        case .school: "School"
        case .council: "Council"
        case .mash: "MASH"
        case .police: "Police"
        case .parentOrSelf: "Parent or young person"
        case .unknown: "Unknown"
        }
    }
}

extension VisitOutcome: Choice {
    static let all: [VisitOutcome] = [.noConcerns, .adviceGiven, .signposted, .concernRaised, .referralMade]

    var label: String {
        switch self {
        case .noConcerns: "No concerns"
        case .adviceGiven: "Advice given"
        case .signposted: "Signposted"
        case .concernRaised: "Concern raised"
        case .referralMade: "Referral made"
        case .unknown: "Unknown"
        }
    }
}

extension SupportGiven: Choice {
    static let all: [SupportGiven] = [
        .food, .safetyAdvice, .onlineSafetyAdvice, .emotionalSupport, .attendanceSupport, .schoolLiaison,
        .crimePrevention,
    ]

    var label: String {
        switch self {
        case .food: "Food"
        case .safetyAdvice: "Safety advice"
        case .onlineSafetyAdvice: "Online safety advice"
        case .emotionalSupport: "Emotional support"
        case .attendanceSupport: "Attendance support"
        case .schoolLiaison: "School liaison"
        case .crimePrevention: "Crime prevention"
        case .unknown: "Unknown"
        }
    }
}

extension ConcernCategory: Choice {
    static let all: [ConcernCategory] = [
        .physicalAbuse, .emotionalAbuse, .sexualAbuse, .neglect, .cse, .criminalExploitation, .seriousViolence,
        .childOnChildAbuse, .onlineHarm, .domesticAbuse, .missing, .radicalisation, .fgmForcedMarriageHba,
        .mentalHealthSelfHarm, .substances, .trafficking, .other,
    ]

    var label: String {
        switch self {
        case .physicalAbuse: "Physical abuse"
        case .emotionalAbuse: "Emotional abuse"
        case .sexualAbuse: "Sexual abuse"
        case .neglect: "Neglect"
        case .cse: "Child sexual exploitation"
        case .criminalExploitation: "Criminal exploitation (county lines)"
        case .seriousViolence: "Serious violence / weapons"
        case .childOnChildAbuse: "Child-on-child abuse / bullying"
        case .onlineHarm: "Online harm"
        case .domesticAbuse: "Domestic abuse"
        case .missing: "Missing"
        case .radicalisation: "Radicalisation"
        case .fgmForcedMarriageHba: "FGM / forced marriage / HBA"
        case .mentalHealthSelfHarm: "Mental health / self-harm"
        case .substances: "Substances"
        case .trafficking: "Trafficking"
        case .other: "Other"
        case .unknown: "Unknown"
        }
    }
}

extension Risk: Choice {
    static let all: [Risk] = [.low, .medium, .high]

    var label: String {
        switch self {
        case .low: "Low"
        case .medium: "Medium"
        case .high: "High"
        case .unknown: "Unknown"
        }
    }
}

extension ConcernStatus: Choice {
    static let all: [ConcernStatus] = [.new, .`open`, .monitoring, .closed, .nfa]

    var label: String {
        switch self {
        case .new: "New"
        case .`open`: "Open"
        case .monitoring: "Monitoring"
        case .closed: "Closed"
        case .nfa: "No further action"
        case .unknown: "Unknown"
        }
    }
}

extension Marking: Choice {
    static let all: [Marking] = [.official, .officialSensitive]

    var label: String {
        switch self {
        case .official: "OFFICIAL"
        case .officialSensitive: "OFFICIAL-SENSITIVE"
        }
    }
}

extension AgeBand: Choice {
    static let all: [AgeBand] = [.under5, .from5To10, .from11To13, .from14To15, .from16To17, .from18To25]

    var label: String {
        switch self {
        case .under5: "Under 5"
        case .from5To10: "5–10"
        case .from11To13: "11–13"
        case .from14To15: "14–15"
        case .from16To17: "16–17"
        case .from18To25: "18–25"
        case .unknown: "Unknown"
        }
    }
}

extension VulnerabilityFlag: Choice {
    static let all: [VulnerabilityFlag] = [
        .childInNeed, .childProtectionPlan, .lookedAfter, .send, .missingEpisodes, .youngCarer,
        .knownToYouthJustice,
    ]

    var label: String {
        switch self {
        case .childInNeed: "Child in need"
        case .childProtectionPlan: "Child protection plan"
        case .lookedAfter: "Looked after"
        case .send: "SEND"
        case .missingEpisodes: "Missing episodes"
        case .youngCarer: "Young carer"
        case .knownToYouthJustice: "Known to youth justice"
        case .unknown: "Unknown"
        }
    }
}

extension Role: Choice {
    static let all: [Role] = [.officer, .supervisor, .safeguardingLead, .auditor, .admin]

    var label: String {
        switch self {
        case .officer: "Officer"
        case .supervisor: "Supervisor"
        case .safeguardingLead: "Safeguarding lead"
        case .auditor: "Auditor"
        case .admin: "Admin"
        }
    }
}

extension ChronologyKind: Choice {
    static let all: [ChronologyKind] = [.visit, .concern, .addendum, .action]

    var label: String {
        switch self {
        case .visit: "Visit"
        case .concern: "Concern"
        case .addendum: "Addendum"
        case .action: "Action"
        }
    }

    /// An SF Symbol for the chronology list.
    var symbol: String {
        switch self {
        case .visit: "house"
        case .concern: "exclamationmark.triangle"
        case .addendum: "text.append"
        case .action: "arrow.up.forward.app"
        }
    }
}

extension EstablishmentKind: Choice {
    static let all: [EstablishmentKind] = [
        .primary, .secondary, .allThrough, .special, .pupilReferralUnit, .furtherEducation, .independent,
    ]

    var label: String {
        switch self {
        case .primary: "Primary"
        case .secondary: "Secondary"
        case .allThrough: "All-through"
        case .special: "Special"
        case .pupilReferralUnit: "PRU / alternative provision"
        case .furtherEducation: "Further education"
        case .independent: "Independent"
        }
    }
}

extension Entity {
    /// The kind of record as the officer reads it (in conflicts and refused changes).
    var label: String {
        switch self {
        case .youngPerson: "Young person"
        case .visit: "Visit"
        case .concern: "Concern"
        case .addendum: "Addendum"
        case .action: "Action"
        case .engagement: "Engagement"
        case .unknown: "Unknown record"
        }
    }
}

// MARK: - Identity for lists

extension Visit: Identifiable {}
extension YoungPerson: Identifiable {}
extension Conflict: Identifiable {}
extension Establishment: Identifiable {}
