/// Where a manually assigned partition starts reading.
public enum StartOffset: Sendable, Hashable {
    /// The oldest record still stored.
    case earliest
    /// Only records written after the assignment (the log end).
    case latest
    /// The record at this offset (the *next offset to read*).
    case offset(Offset)
    /// The first record whose timestamp is at or after this time; the log end if none is.
    case timestamp(KafkaTimestamp)
    /// The group's committed offset, or the configured offset reset if there is none.
    case committed
}
