import Mirror

/// A validated site or witness name (the mirror's `SiteID`).
///
/// The module `Mirror` shares its name with the standard library's `Mirror` type, so
/// `SiteName` cannot be written where `Consensus` is imported too; this alias names it.
public typealias SiteName = SiteID
