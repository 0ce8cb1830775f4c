using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;

namespace Recommend.Sql;

/// <summary>
/// Jobs and shards as the SQL stores keep them (enums as integers, times as unix milliseconds), for Dapper. Both stores
/// share these tables' layout, so they share the row classes, the column lists and the state sets below.
/// </summary>
public static class ReindexRows
{
    /// <summary>States of a job that has not finished, as an SQL list: "(1, 2, 3)".</summary>
    public static readonly string ActiveStates = SqlList(ReindexState.Pending, ReindexState.Running, ReindexState.Verifying);

    /// <summary>States in which a shard can still be claimed and run.</summary>
    public static readonly string ClaimableShardStates = SqlList(ReindexState.Pending, ReindexState.Running);

    public static readonly long Succeeded = (long)ReindexState.Succeeded;

    public const string RunColumns =
        "state AS State, phase AS Phase, checkpoint AS Checkpoint, processed AS Processed, embedded AS Embedded, cached AS Cached, " +
        "deleted AS Deleted, bad_rows AS BadRows, error AS Error, started_at AS StartedAt, finished_at AS FinishedAt, owner AS Owner, " +
        "lease_expires_at AS LeaseExpiresAt";

    public const string JobColumns =
        "id AS Id, mode AS Mode, source AS Source, model_id AS ModelId, dimension AS Dimension, max_bad_rows AS MaxBadRows, " +
        "target_version AS TargetVersion, total AS Total, created_at AS CreatedAt, cancel_requested AS CancelRequested, " +
        "shard_count AS ShardCount, " + RunColumns;

    public const string ShardColumns = "job_id AS JobId, shard_index AS ShardIndex, " + RunColumns;

    /// <summary>The run columns set from a <see cref="RunRow"/>'s parameters, for an UPDATE.</summary>
    public const string SetRunColumns =
        "state = @State, phase = @Phase, checkpoint = @Checkpoint, processed = @Processed, embedded = @Embedded, cached = @Cached, " +
        "deleted = @Deleted, bad_rows = @BadRows, error = @Error, started_at = @StartedAt, finished_at = @FinishedAt, " +
        "lease_expires_at = @LeaseExpiresAt";

    public const string InsertJob =
        """
        INSERT INTO reindex_jobs (id, mode, source, model_id, dimension, max_bad_rows, target_version, total, created_at,
            cancel_requested, shard_count, state, phase, checkpoint, processed, embedded, cached, deleted, bad_rows, error,
            started_at, finished_at, owner, lease_expires_at)
        VALUES (@Id, @Mode, @Source, @ModelId, @Dimension, @MaxBadRows, @TargetVersion, @Total, @CreatedAt,
            @CancelRequested, @ShardCount, @State, @Phase, @Checkpoint, @Processed, @Embedded, @Cached, @Deleted, @BadRows, @Error,
            @StartedAt, @FinishedAt, @Owner, @LeaseExpiresAt)
        """;

    private static string SqlList(params ReindexState[] states) => $"({string.Join(", ", states.Select(s => (long)s))})";

    internal static long? Millis(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();

    internal static DateTimeOffset? Time(long? millis) => millis is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
}

/// <summary>The run-state columns every job and shard row has.</summary>
public class RunRow
{
    public long State { get; set; }
    public long Phase { get; set; }
    public string? Checkpoint { get; set; }
    public long Processed { get; set; }
    public long Embedded { get; set; }
    public long Cached { get; set; }
    public long Deleted { get; set; }
    public long BadRows { get; set; }
    public string? Error { get; set; }
    public long? StartedAt { get; set; }
    public long? FinishedAt { get; set; }
    public string? Owner { get; set; }
    public long? LeaseExpiresAt { get; set; }

    public static RunRow From(RunState run) => new RunRow().Fill(run);

    protected RunRow Fill(RunState run)
    {
        State = (long)run.State;
        Phase = (long)run.Phase;
        Checkpoint = run.Checkpoint;
        (Processed, Embedded, Cached, Deleted, BadRows) = run.Counters;
        Error = run.Error;
        StartedAt = ReindexRows.Millis(run.StartedAt);
        FinishedAt = ReindexRows.Millis(run.FinishedAt);
        Owner = run.Owner;
        LeaseExpiresAt = ReindexRows.Millis(run.LeaseExpiresAt);
        return this;
    }

    public RunState ToRunState() => new()
    {
        State = (ReindexState)State,
        Phase = (ReindexPhase)Phase,
        Checkpoint = Checkpoint,
        Counters = new RunCounters(Processed, Embedded, Cached, Deleted, BadRows),
        Error = Error,
        StartedAt = ReindexRows.Time(StartedAt),
        FinishedAt = ReindexRows.Time(FinishedAt),
        Owner = Owner,
        LeaseExpiresAt = ReindexRows.Time(LeaseExpiresAt),
    };
}

public sealed class JobRow : RunRow
{
    public string Id { get; set; } = "";
    public long Mode { get; set; }
    public string Source { get; set; } = "";
    public string ModelId { get; set; } = "";
    public long Dimension { get; set; }
    public long MaxBadRows { get; set; }
    public string? TargetVersion { get; set; }
    public long Total { get; set; }
    public long CreatedAt { get; set; }
    public bool CancelRequested { get; set; }
    public long ShardCount { get; set; }

    public static JobRow From(ReindexJob job)
    {
        var row = new JobRow
        {
            Id = job.Id, Mode = (long)job.Mode, Source = job.Source, ModelId = job.Spec.ModelId, Dimension = job.Spec.Dimension,
            MaxBadRows = job.MaxBadRows, TargetVersion = job.TargetVersion, Total = job.Total,
            CreatedAt = job.CreatedAt.ToUnixTimeMilliseconds(), CancelRequested = job.CancelRequested, ShardCount = job.ShardCount,
        };
        row.Fill(job.Run);
        return row;
    }

    public ReindexJob ToJob() => new()
    {
        Id = Id, Mode = (ReindexMode)Mode, Source = Source, Spec = new IndexSpec(ModelId, (int)Dimension), MaxBadRows = (int)MaxBadRows,
        TargetVersion = TargetVersion, Total = Total, CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
        CancelRequested = CancelRequested, ShardCount = (int)ShardCount, Run = ToRunState(),
    };
}

public sealed class ShardRow : RunRow
{
    public string JobId { get; set; } = "";
    public long ShardIndex { get; set; }

    public ReindexShard ToShard() => new(JobId, (int)ShardIndex, ToRunState());
}
