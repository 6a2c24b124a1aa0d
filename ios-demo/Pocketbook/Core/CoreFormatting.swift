// Why this file exists: the core speaks in its own terms (a `PocketbookError` case, a
// "YYYY-MM-DD" date string, a conflict value as JSON text, a snake_case field name). The
// screens need words an officer understands. Every such translation lives here, so each view
// model shows the same message for the same thing.

import Foundation

extension PocketbookError {
    /// A message for the officer. Carries only what the core put in the error, which never
    /// includes personal data.
    var userMessage: String {
        switch self {
        case let .InvalidInput(field, reason):
            "Check \(FieldName.label(for: field)): \(reason)"
        case .NotFound:
            "That record is no longer on this device."
        case .NotEnrolled:
            "This device is not enrolled yet."
        case .WrongKey:
            "This device's key does not open the notebook."
        case let .Storage(reason):
            "The notebook could not be read or written (\(reason))."
        case let .Network(reason):
            "Could not reach the server (\(reason)). Your work is safe on this device."
        case .Unauthorized:
            "The server did not accept this device. Ask for a new enrolment code."
        case .DeviceRevoked:
            "This device has been revoked and its notebook erased."
        case let .Forbidden(reason):
            "The server refused: \(reason)."
        case .LeaseExpired:
            "This device has not synced for too long. Ask for a new code to carry on."
        case .UpgradeRequired:
            "The server needs a newer version of the app."
        case .DeviceForked:
            "This notebook was copied from another device. Enter a new code from your supervisor to send its changes."
        }
    }
}

/// Human names for the core's field names (as they appear in `InvalidInput` and conflicts).
enum FieldName {
    /// "young_person_ids" → "young people", "thrive.rationale" → "THRIVE rationale", …
    static func label(for field: String) -> String {
        switch field {
        case "young_person_ids": "young people"
        case "start": "start time"
        case "end": "end time"
        case "follow_up": "follow-up date"
        case "happened_at": "when it happened"
        case "childs_words": "the child's words"
        case "risk_text": "risk"
        case "action_text": "action"
        case "date_of_birth": "date of birth"
        case "key": "the device key"
        default:
            field
                .replacingOccurrences(of: "thrive", with: "THRIVE")
                .replacingOccurrences(of: "_", with: " ")
                .replacingOccurrences(of: ".", with: " ")
        }
    }
}

/// The core's calendar dates are "YYYY-MM-DD" strings (`NaiveDate`), meant in local time.
enum CalendarDate {
    private static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }

    /// The local calendar day of `date`, as the core wants it.
    static func string(from date: Date) -> NaiveDate {
        formatter().string(from: date)
    }

    /// The start of the local day the core's string names, or nil if it is not a date.
    static func date(from text: NaiveDate) -> Date? {
        formatter().date(from: text)
    }

    /// A core date for display ("3 Apr 2012"); the raw text if it does not parse.
    static func display(_ text: NaiveDate) -> String {
        date(from: text)?.formatted(date: .abbreviated, time: .omitted) ?? text
    }
}

/// Conflict values arrive as JSON text; show strings without quotes and lists as lists.
enum JSONValueText {
    static func display(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else {
            return json
        }
        switch object {
        case let text as String:
            return text.isEmpty ? "(empty)" : text
        case let list as [Any]:
            return list.map { "\($0)" }.joined(separator: ", ")
        case is NSNull:
            return "(none)"
        default:
            return json
        }
    }
}

extension String {
    /// The text without surrounding spaces and newlines.
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
