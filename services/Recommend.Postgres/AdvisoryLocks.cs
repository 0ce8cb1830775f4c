namespace Recommend.Postgres;

/// <summary>
/// The two-key advisory locks this store takes, in one place so that no two uses collide (the single-key space is
/// left to anyone else sharing the database).
/// </summary>
internal static class AdvisoryLocks
{
    public const int Class = 0x52_45_43_4D; // "RECM"

    /// <summary>Held while migrating, so replicas starting together apply each script once.</summary>
    public const int Migrations = 1;

    /// <summary>Held by the co-purchase updater for one batch, so replicas' updaters apply batches one at a time.</summary>
    public const int CoPurchaseUpdater = 2;

    /// <summary>Held while an experiment starts, so two replicas cannot both start experiments that share a placement.</summary>
    public const int ExperimentStarts = 3;
}
