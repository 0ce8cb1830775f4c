using System.Diagnostics;
using Recommend.Core.Experiments;
using Recommend.Core.History;
using Recommend.Core.Ranking;
using Recommend.Postgres;
using Recommend.Sqlite;
using Recommend.Testing.Postgres;

// An experiment report over a production-sized exposure log, computed by the store (the process gets per-variant sums),
// on PostgreSQL (a throwaway cluster, apt postgresql-15) and on the embedded SQLite store; printed as Markdown.
//   dotnet run -c Release --project tests/Recommend.Experiments.Bench -- [users=100000] [exposures-per-user=10] [events=100000]
var users = args.Length > 0 ? int.Parse(args[0]) : 100_000;
var perUser = args.Length > 1 ? int.Parse(args[1]) : 10;
var eventCount = args.Length > 2 ? int.Parse(args[2]) : 100_000;
var ct = CancellationToken.None;
var start = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
var experiment = new Experiment
{
    Id = "bench", Name = "bench", Placements = ["home"], Salt = "bench-salt", CreatedAt = start,
    Variants = [new("A", 1, true, RankingProfile.Default), new("B", 1, false, RankingProfile.Default with { DiversityLambda = 0.5 })],
};

// Users see one answer of perUser items a day for perUser days... spread over 14 days; events quote the answer (70 %)
// or come without an id inside the window (30 %).
var random = new Random(42);
List<Exposure> exposures = new(users * perUser);
for (var u = 0; u < users; u++)
{
    var variant = Assignment.VariantFor(experiment, $"u{u}").Name;
    for (var k = 0; k < perUser; k++)
        exposures.Add(new Exposure("bench", variant, $"u{u}", $"r{u}-{k / 5}", $"p{random.Next(20_000)}", k % 5, variant, start.AddMinutes(random.Next(14 * 24 * 60))));
}
var events = Enumerable.Range(0, eventCount).Select(i =>
{
    var shown = exposures[random.Next(exposures.Count)];
    var type = random.NextDouble() < 0.8 ? EventType.Click : EventType.Purchase;
    var quoted = random.NextDouble() < 0.7;
    return new UserEvent($"e{i}", type, shown.UserId, shown.ProductId, 1 + random.Next(3), 2 + random.Next(20), shown.OccurredAt.AddMinutes(5),
        quoted ? shown.RecommendationId : null, type == EventType.Purchase ? $"o{i}" : null);
}).ToList();
Console.WriteLine($"{exposures.Count:N0} exposures of {users:N0} users, {events.Count:N0} events; {Environment.ProcessorCount} CPUs");
Console.WriteLine();
Console.WriteLine("| store | load exposures s | report (cold) s | report (warm, best of 3) s | users exposed | attributed clicks |");
Console.WriteLine("|---|---|---|---|---|---|");

var cluster = new PostgresCluster { ServerSettings = ["shared_buffers=512MB", "work_mem=64MB"] };
await cluster.InitializeAsync();
try
{
    var connectionString = await cluster.CreateDatabaseAsync();
    await using var postgres = await PostgresStore.OpenAsync(connectionString, ct);
    await RunAsync("postgres", postgres, async () =>
    {
        // What autovacuum does after a bulk insert (statistics, visibility map for index-only scans), done at once.
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        foreach (var table in new[] { "exposures", "events" })
        {
            await using var vacuum = new Npgsql.NpgsqlCommand($"vacuum analyze {table}", connection);
            await vacuum.ExecuteNonQueryAsync(ct);
        }
    });
    if (Environment.GetEnvironmentVariable("RECOMMEND_BENCH_PAUSE") is { Length: > 0 } pauseFile)
    {
        // Profiling: leave the loaded database up until the file named by the variable appears.
        File.WriteAllText(pauseFile + ".conn", connectionString);
        while (!File.Exists(pauseFile)) await Task.Delay(1000);
    }
}
finally
{
    await cluster.DisposeAsync();
}
var directory = Directory.CreateTempSubdirectory("experiments-bench-").FullName;
try
{
    await using var sqlite = SqliteStore.Open(Path.Combine(directory, "recommend.db"));
    await RunAsync("sqlite", sqlite, () => Task.CompletedTask);
}
finally
{
    Directory.Delete(directory, recursive: true);
}

async Task RunAsync<TStore>(string name, TStore store, Func<Task> settle) where TStore : IExperimentStore, IHistoryStore
{
    await store.SaveDraftAsync(experiment, ct);
    await store.StartExperimentAsync("bench", start, ct);
    var load = Stopwatch.StartNew();
    foreach (var batch in exposures.Chunk(10_000)) await store.RecordExposuresAsync(batch, ct);
    var loadSeconds = load.Elapsed.TotalSeconds;
    foreach (var batch in events.Chunk(5_000)) await store.RecordEventsAsync(batch, ct);
    await settle();

    var reporter = new ExperimentReporter(store);
    var stored = (await store.GetExperimentAsync("bench", ct))!;
    var end = start.AddDays(15);
    var cold = Stopwatch.StartNew();
    var report = await reporter.ReportAsync(stored, start, end, end, ct);
    var coldSeconds = cold.Elapsed.TotalSeconds;
    var warm = double.MaxValue;
    for (var i = 0; i < 3; i++)
    {
        var clock = Stopwatch.StartNew();
        report = await reporter.ReportAsync(stored, start, end, end, ct);
        warm = Math.Min(warm, clock.Elapsed.TotalSeconds);
    }
    Console.WriteLine($"| {name} | {loadSeconds:F1} | {coldSeconds:F2} | {warm:F2} | {report.Variants.Sum(v => v.Totals.UsersExposed):N0} | {report.Variants.Sum(v => v.Totals.Clicks):N0} |");
}
