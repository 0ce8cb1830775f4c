using Recommend.Core.Vectors;

namespace Recommend.Core.Reindexing;

/// <summary>A job as the SQL stores keep it (enums as integers, times as unix milliseconds), for row mappers such as Dapper.</summary>
public sealed class ReindexJobRow
{
    public string Id { get; set; } = "";
    public long Mode { get; set; }
    public string Source { get; set; } = "";
    public string ModelId { get; set; } = "";
    public long Dimension { get; set; }
    public long MaxBadRows { get; set; }
    public string? TargetVersion { get; set; }
    public long State { get; set; }
    public long Phase { get; set; }
    public string? Checkpoint { get; set; }
    public long Total { get; set; }
    public long Processed { get; set; }
    public long Embedded { get; set; }
    public long Cached { get; set; }
    public long Deleted { get; set; }
    public long BadRows { get; set; }
    public string? Error { get; set; }
    public long CreatedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? FinishedAt { get; set; }
    public string? Owner { get; set; }
    public long? LeaseExpiresAt { get; set; }
    public bool CancelRequested { get; set; }
    public long ShardCount { get; set; }

    public static ReindexJobRow From(ReindexJob job) => new()
    {
        Id = job.Id, Mode = (long)job.Mode, Source = job.Source, ModelId = job.Spec.ModelId, Dimension = job.Spec.Dimension,
        MaxBadRows = job.MaxBadRows, TargetVersion = job.TargetVersion, State = (long)job.State, Phase = (long)job.Phase,
        Checkpoint = job.Checkpoint, Total = job.Total, Processed = job.Processed, Embedded = job.Embedded, Cached = job.Cached,
        Deleted = job.Deleted, BadRows = job.BadRows, Error = job.Error, CreatedAt = job.CreatedAt.ToUnixTimeMilliseconds(),
        StartedAt = job.StartedAt?.ToUnixTimeMilliseconds(), FinishedAt = job.FinishedAt?.ToUnixTimeMilliseconds(),
        Owner = job.Owner, LeaseExpiresAt = job.LeaseExpiresAt?.ToUnixTimeMilliseconds(), CancelRequested = job.CancelRequested,
        ShardCount = job.ShardCount,
    };

    public ReindexJob ToJob() => new()
    {
        Id = Id, Mode = (ReindexMode)Mode, Source = Source, Spec = new IndexSpec(ModelId, (int)Dimension), MaxBadRows = (int)MaxBadRows,
        TargetVersion = TargetVersion, State = (ReindexState)State, Phase = (ReindexPhase)Phase, Checkpoint = Checkpoint,
        Total = Total, Processed = Processed, Embedded = Embedded, Cached = Cached, Deleted = Deleted, BadRows = BadRows,
        Error = Error, CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
        StartedAt = StartedAt is { } started ? DateTimeOffset.FromUnixTimeMilliseconds(started) : null,
        FinishedAt = FinishedAt is { } finished ? DateTimeOffset.FromUnixTimeMilliseconds(finished) : null,
        Owner = Owner, LeaseExpiresAt = LeaseExpiresAt is { } lease ? DateTimeOffset.FromUnixTimeMilliseconds(lease) : null,
        CancelRequested = CancelRequested, ShardCount = (int)ShardCount,
    };
}

/// <summary>A shard as the SQL stores keep it.</summary>
public sealed class ReindexShardRow
{
    public string JobId { get; set; } = "";
    public long ShardIndex { get; set; }
    public long State { get; set; }
    public long Phase { get; set; }
    public string? Checkpoint { get; set; }
    public long Processed { get; set; }
    public long Embedded { get; set; }
    public long Cached { get; set; }
    public long Deleted { get; set; }
    public long BadRows { get; set; }
    public string? Error { get; set; }
    public string? Owner { get; set; }
    public long? LeaseExpiresAt { get; set; }

    public static ReindexShardRow From(ReindexShard shard) => new()
    {
        JobId = shard.JobId, ShardIndex = shard.Index, State = (long)shard.State, Phase = (long)shard.Phase, Checkpoint = shard.Checkpoint,
        Processed = shard.Processed, Embedded = shard.Embedded, Cached = shard.Cached, Deleted = shard.Deleted, BadRows = shard.BadRows,
        Error = shard.Error, Owner = shard.Owner, LeaseExpiresAt = shard.LeaseExpiresAt?.ToUnixTimeMilliseconds(),
    };

    public ReindexShard ToShard() => new()
    {
        JobId = JobId, Index = (int)ShardIndex, State = (ReindexState)State, Phase = (ReindexPhase)Phase, Checkpoint = Checkpoint,
        Processed = Processed, Embedded = Embedded, Cached = Cached, Deleted = Deleted, BadRows = BadRows, Error = Error, Owner = Owner,
        LeaseExpiresAt = LeaseExpiresAt is { } lease ? DateTimeOffset.FromUnixTimeMilliseconds(lease) : null,
    };
}
