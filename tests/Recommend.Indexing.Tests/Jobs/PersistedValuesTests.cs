using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;

namespace Recommend.Indexing.Tests.Jobs;

/// <summary>Values the databases hold (and the migrations' partial indexes name): changing one would misread old rows.</summary>
public class PersistedValuesTests
{
    [Fact]
    public void Job_states_modes_and_phases_keep_their_numbers()
    {
        Assert.Equal([1, 2, 3, 4, 5, 6], Enum.GetValues<ReindexState>().Select(s => (int)s));
        Assert.Equal([1, 2], Enum.GetValues<ReindexMode>().Select(m => (int)m));
        Assert.Equal([0, 1, 2, 3], Enum.GetValues<ReindexPhase>().Select(p => (int)p));
    }

    [Fact]
    public void The_sql_state_sets_come_from_the_enums()
    {
        Assert.Equal("(1, 2, 3)", ReindexRows.ActiveStates); // as in the reindex_jobs_one_active index
        Assert.Equal("(1, 2)", ReindexRows.ClaimableShardStates);
        Assert.Equal(4, ReindexRows.Succeeded);
    }

    [Fact]
    public void A_job_survives_the_trip_through_its_row()
    {
        var at = new DateTimeOffset(2026, 3, 4, 5, 6, 7, 891, TimeSpan.Zero);
        var job = new ReindexJob
        {
            Id = "rj-1", Mode = ReindexMode.Incremental, Source = "file:/srv/feed.csv", Spec = new IndexSpec("m", 256), MaxBadRows = -1,
            TargetVersion = "v3", Total = 12, CreatedAt = at, CancelRequested = true, ShardCount = 3,
            Run = new RunState
            {
                State = ReindexState.Verifying, Phase = ReindexPhase.Sweep, Checkpoint = "p9", Counters = new RunCounters(9, 5, 3, 1, 2),
                Error = "e", StartedAt = at.AddSeconds(1), FinishedAt = at.AddSeconds(2), Owner = "o", LeaseExpiresAt = at.AddSeconds(3),
            },
        };

        Assert.Equal(job, JobRow.From(job).ToJob());
        Assert.Equal(job.Run, RunRow.From(job.Run).ToRunState());
    }
}
