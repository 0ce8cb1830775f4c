using Npgsql;

namespace Recommend.Postgres.Tests;

internal static class SessionLocks
{
    /// <summary>Returns once some session of the observer's database waits for a lock (e.g. a row another test session holds).</summary>
    public static async Task WaitUntilASessionWaitsForALockAsync(NpgsqlConnection observer)
    {
        // Within a transaction the server keeps showing the activity it first read: each look discards that copy.
        await using var refresh = new NpgsqlCommand("select pg_stat_clear_snapshot()", observer);
        await using var command = new NpgsqlCommand(
            "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'", observer);
        async Task<long> WaitingSessionsAsync()
        {
            await refresh.ExecuteNonQueryAsync();
            return (long)(await command.ExecuteScalarAsync())!;
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await WaitingSessionsAsync() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "No session ever waited for the locked row.");
            await Task.Delay(20);
        }
    }
}
