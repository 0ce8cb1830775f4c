using System.Diagnostics;
using Npgsql;
using Recommend.Core.History;
using Recommend.Testing.Postgres;
using Xunit.Abstractions;

namespace Recommend.Postgres.Tests;

/// <summary>
/// Batched ingest rate, acknowledged = committed: 100,000 events in batches of 2,000 from one writer. Purchases come
/// shaped like the UCI orders (5–35 lines, about 20 on average, over 4,000 products with skewed demand), so each
/// line also updates about 19 co-purchase counters in each direction. Besides wall time the test reports the CPU
/// time of the PostgreSQL backend, which stays meaningful when the machine is shared with other work.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Benchmark")]
public sealed class IngestThroughputTests(PostgresCluster cluster, ITestOutputHelper output)
{
    private const int EventCount = 100_000;
    private const int BatchSize = 2_000;

    [Fact]
    public Task Purchases_in_orders_are_ingested_at_a_measured_rate() =>
        MeasureAsync("purchase lines", Lines(EventType.Purchase));

    [Fact]
    public Task Views_are_ingested_at_a_measured_rate() =>
        MeasureAsync("views", Lines(EventType.View));

    private async Task MeasureAsync(string what, IEnumerable<UserEvent> source)
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        await using var store = await PostgresStore.OpenAsync(connectionString, CancellationToken.None);
        var events = source.Take(EventCount).ToList();
        await store.RecordEventsAsync(events[..1], CancellationToken.None); // opens the pooled connection
        var backend = await BackendCpuAsync(connectionString);

        var clock = Stopwatch.StartNew();
        var accepted = 1;
        foreach (var batch in events.Skip(1).Chunk(BatchSize))
            accepted += (await store.RecordEventsAsync(batch, CancellationToken.None)).Accepted;
        clock.Stop();

        var backendSeconds = (await BackendCpuAsync(connectionString) - backend).TotalSeconds;
        output.WriteLine(
            $"{EventCount:N0} {what} in batches of {BatchSize:N0}: {clock.Elapsed.TotalSeconds:F1} s wall = " +
            $"{(EventCount - 1) / clock.Elapsed.TotalSeconds:N0} events/s; PostgreSQL backend CPU {backendSeconds:F1} s = " +
            $"{(EventCount - 1) / backendSeconds:N0} events per CPU-second; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Assert.Equal(EventCount, accepted);
    }

    /// <summary>User + system CPU of the store's one pooled backend (a local cluster only; zero for a remote server).</summary>
    private static async Task<TimeSpan> BackendCpuAsync(string connectionString)
    {
        await using var observer = new NpgsqlConnection(connectionString);
        await observer.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'",
            observer);
        var pid = (int)(await command.ExecuteScalarAsync())!;
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat)) return TimeSpan.Zero;
        // Fields after the parenthesised command name; utime and stime are the 14th and 15th, in 1/100 s on Linux.
        var fields = File.ReadAllText(stat).Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return TimeSpan.FromSeconds((long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0);
    }

    private static IEnumerable<UserEvent> Lines(EventType type)
    {
        var random = new Random(5);
        var start = new DateTimeOffset(2011, 1, 1, 8, 0, 0, TimeSpan.Zero);
        for (var order = 0; ; order++)
        {
            var lines = random.Next(5, 36);
            var at = start.AddMinutes(order * 7);
            for (var line = 0; line < lines; line++)
            {
                // Squaring a uniform draw skews demand towards low ids, as real catalogues are skewed.
                var product = (int)(Math.Pow(random.NextDouble(), 2) * 4_000);
                yield return new UserEvent($"o{order}-{line}", type, $"u{order % 3_000}", $"p{product}",
                    random.Next(1, 13), 2.5, at, null, $"o{order}");
            }
        }
    }
}
