namespace Recommend.Indexing;

/// <summary>Tuning of re-indexing runs (configuration section Recommend:Reindex).</summary>
public sealed record ReindexOptions
{
    /// <summary>Products per pipeline batch: one embedder call, one index upsert, one checkpoint.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Batches buffered between stages: bounds memory while letting reading and writing overlap embedding.</summary>
    public int ChannelCapacity { get; init; } = 2;

    /// <summary>How long a runner holds a job without renewing; a crashed runner's job is resumable after this.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Lease renewal and cancel-request polling interval.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Versions kept beside the live one after a full run, for rollback; older ones are deleted.</summary>
    public int KeepPreviousVersions { get; init; } = 2;

    /// <summary>Products whose own vector must find them first in a new version before it may go live.</summary>
    public int VerificationSamples { get; init; } = 3;

    /// <summary>How often watchers of a job poll its progress.</summary>
    public TimeSpan WatchInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The server directory that <c>file:</c> sources given over gRPC must lie in (catalog exports dropped there);
    /// null refuses file sources, so no client can make the server read an arbitrary file.
    /// </summary>
    public string? SourceDirectory { get; init; }

    /// <summary>
    /// A file source is the whole catalog: what it does not list is deleted. A run that would delete more than this
    /// share of the catalog is refused unless the request allows mass deletion (a truncated export must not empty
    /// the shop).
    /// </summary>
    public double MaxDeletionShare { get; init; } = 0.2;

    /// <summary>How often the host checks that store and live index agree (and at start-up); zero turns it off.</summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Identifies this runner in job leases; unique per process by default.</summary>
    public string Owner { get; init; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
}
