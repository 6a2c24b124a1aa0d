// Why this file exists: the core's store calls (record_visit, visits, chronology, …) are
// synchronous and touch the disk, so they must never run on the main thread. StoreGateway runs
// them one at a time on a background queue and hands the result back to async Swift.

import Foundation

/// Runs the core's synchronous store calls on one serial background queue.
///
/// The core serialises its calls anyway; a serial queue keeps them from occupying several
/// threads of Swift's cooperative pool while they wait on the disk. The async calls of the core
/// (`enroll`, `reauthenticate`, `sync`) are not routed here: they run on the core's own runtime.
final class StoreGateway: Sendable {
    /// The open store. Thread-safe; every call on it may block on the disk.
    let book: Pocketbook
    private let queue = DispatchQueue(label: "uk.police.pocketbook.store", qos: .userInitiated)

    init(book: Pocketbook) {
        self.book = book
    }

    /// Runs `body` with the store on the background queue and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (Pocketbook) throws -> T) async throws -> T {
        let book = self.book
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            queue.async {
                continuation.resume(with: Result { try body(book) })
            }
        }
    }
}
