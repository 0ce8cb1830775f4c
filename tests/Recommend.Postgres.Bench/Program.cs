using System.Diagnostics;
using Npgsql;
using Recommend.Core.History;
using Recommend.Postgres;
using Recommend.Postgres.Bench;
using Recommend.Testing.Postgres;

// Postgres ingest and co-purchase maintenance in one run, printed as Markdown; see docs/benchmarks.md.
//   dotnet run -c Release --project tests/Recommend.Postgres.Bench -- [--lines ORDER_LINES_CSV_GZ] [--events N]
//       [--rates LINES_PER_SECOND,...] [--seconds S] [--updater-batch N] [--shared-buffers SIZE]
// Starts a throwaway cluster (apt postgresql-15) with a production-like cache (shared_buffers, default 1GB: the
// co-purchase table of 100,000 UCI lines alone outgrows the 128MB default), or uses the server RECOMMEND_TEST_POSTGRES
// names (server CPU is then reported only if that server runs on this machine). A rate of 0 means "as fast as the
// writer can".

const int IngestBatch = 2_000;
var ct = CancellationToken.None;
var settings = args.Chunk(2).ToDictionary(pair => pair[0], pair => pair.Length > 1 ? pair[1] : throw new ArgumentException($"{pair[0]} needs a value"));
var linesFile = settings.GetValueOrDefault("--lines") ?? "samples/uci-online-retail/order_lines.csv.gz"; // from the repository root
var eventCount = int.Parse(settings.GetValueOrDefault("--events") ?? "100000");
var rates = (settings.GetValueOrDefault("--rates") ?? "1000,2000,4000,0").Split(',').Select(int.Parse).ToList();
var sustainedSeconds = int.Parse(settings.GetValueOrDefault("--seconds") ?? "15");
var sharedBuffers = settings.GetValueOrDefault("--shared-buffers") ?? "1GB";
var updaterOptions = new CoPurchaseUpdaterOptions { BatchSize = int.Parse(settings.GetValueOrDefault("--updater-batch") ?? "5000") };

var lines = OrderLines.Load(linesFile);
Console.WriteLine($"Order lines: {Path.GetFileName(linesFile)}, {lines.Count:N0} lines in {lines.Orders:N0} orders, " +
                  $"{lines.PairsPerLine:F1} ordered pairs per line; {Environment.ProcessorCount} CPUs; updater batch {updaterOptions.BatchSize:N0}; " +
                  $"shared_buffers {sharedBuffers}.");
Console.WriteLine();

var cluster = new PostgresCluster { ServerSettings = [$"shared_buffers={sharedBuffers}"] };
await cluster.InitializeAsync();
try
{
    Console.WriteLine("| phase | items | wall s | items/s (wall) | server CPU s | items per server CPU-s | client CPU s | load avg |");
    Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");

    await IngestAsync("ingest views", EventType.View);
    var purchases = await IngestAsync("ingest purchase lines (updater stopped)", EventType.Purchase);
    await using (purchases.Store)
        await ApplyBacklogAsync(purchases.Store, purchases.Cpu);

    Console.WriteLine();
    Console.WriteLine("Sustained purchase ingest with the updater running (its own pool, as another replica's would be); " +
                      "lag = commit of a batch → its pairs visible through GetCoPurchasesAsync.");
    Console.WriteLine();
    Console.WriteLine("| offered lines/s | ingested lines/s | applied lines/s | lag p50 ms | lag p95 ms | lag max ms | backlog at end (lines) | server CPU per line (ms) |");
    Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
    foreach (var rate in rates)
        await SustainedAsync(rate);
}
finally
{
    await cluster.DisposeAsync();
}
return 0;

// Batches of IngestBatch events, one writer, acknowledged = committed. The first batch warms the pool, JIT and plans.
async Task<(PostgresStore Store, ServerCpu? Cpu)> IngestAsync(string phase, EventType type)
{
    var connectionString = await cluster.CreateDatabaseAsync();
    var store = await PostgresStore.OpenAsync(connectionString, ct);
    var cpu = await ServerCpu.FindAsync(connectionString);
    var events = lines.Events(type, "i").Take(IngestBatch + eventCount).ToList();
    await store.RecordEventsAsync(events[..IngestBatch], ct);

    var accepted = 0;
    var sample = await MeasureAsync(cpu, async () =>
    {
        foreach (var batch in events.Skip(IngestBatch).Chunk(IngestBatch))
            accepted += (await store.RecordEventsAsync(batch, ct)).Accepted;
    });
    if (accepted != eventCount) throw new InvalidOperationException($"{accepted} of {eventCount} accepted");
    PrintPhase($"{phase}, batches of {IngestBatch:N0}", eventCount, sample);
    if (type == EventType.Purchase) return (store, cpu);
    await store.DisposeAsync();
    return default;
}

// The updater alone, catching up with the backlog the purchase ingest left.
async Task ApplyBacklogAsync(PostgresStore store, ServerCpu? cpu)
{
    var updater = store.CreateCoPurchaseUpdater(updaterOptions);
    await updater.ProcessPendingAsync(ct); // warm-up batch, not timed
    var applied = 0;
    var sample = await MeasureAsync(cpu, async () =>
    {
        for (int n; (n = await updater.ProcessPendingAsync(ct)) > 0;) applied += n;
    });
    PrintPhase("updater applying that backlog (order lines)", applied, sample);
}

async Task SustainedAsync(int linesPerSecond)
{
    var connectionString = await cluster.CreateDatabaseAsync();
    await using var store = await PostgresStore.OpenAsync(connectionString, ct);
    await using var updaterPool = NpgsqlDataSource.Create(connectionString);
    var cpu = await ServerCpu.FindAsync(connectionString);
    using var stopUpdater = new CancellationTokenSource();
    var updating = new CoPurchaseUpdater(updaterPool, updaterOptions).RunAsync(stopUpdater.Token);

    // Paced in ticks of 100 ms; unpaced, back-to-back batches of the usual size. Each batch ends with a two-line
    // marker order whose basket key sorts last, so its pair turns visible once the whole batch is applied.
    var perBatch = linesPerSecond > 0 ? Math.Max(linesPerSecond / 10, 1) : IngestBatch;
    var tick = TimeSpan.FromMilliseconds(linesPerSecond > 0 ? 100 : 0);
    var source = lines.Events(EventType.Purchase, $"s{linesPerSecond}-").GetEnumerator();
    var committed = new List<long>(); // Stopwatch timestamps, per batch
    var lags = new List<double>();
    var ingesting = true;

    var watcher = Task.Run(async () =>
    {
        for (var batch = 0; ; batch++)
        {
            while (true)
            {
                int count;
                bool stillIngesting;
                lock (committed) (count, stillIngesting) = (committed.Count, ingesting);
                if (batch < count) break;
                if (!stillIngesting) return;
                await Task.Delay(5);
            }
            while ((await store.GetCoPurchasesAsync([Marker(batch, "a")], 1, ct)).Count == 0)
                await Task.Delay(5);
            long committedAt;
            lock (committed) committedAt = committed[batch];
            lags.Add(Stopwatch.GetElapsedTime(committedAt).TotalMilliseconds);
        }
    });

    var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
    var serverCpu = cpu?.Read();
    var clock = Stopwatch.StartNew();
    var lineCount = 0L;
    for (var batch = 0; clock.Elapsed < TimeSpan.FromSeconds(sustainedSeconds); batch++)
    {
        var due = tick * batch;
        if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
        var events = new List<UserEvent>(perBatch + 2);
        for (var i = 0; i < perBatch && source.MoveNext(); i++) events.Add(source.Current);
        events.Add(new UserEvent($"m{batch}a", EventType.Purchase, "marker", Marker(batch, "a"), 1, 1, DateTimeOffset.UtcNow, null, $"~marker{batch}"));
        events.Add(new UserEvent($"m{batch}b", EventType.Purchase, "marker", Marker(batch, "b"), 1, 1, DateTimeOffset.UtcNow, null, $"~marker{batch}"));
        await store.RecordEventsAsync(events, ct);
        lock (committed) committed.Add(Stopwatch.GetTimestamp());
        lineCount += events.Count;
    }
    var ingestSeconds = clock.Elapsed.TotalSeconds;
    long backlog;
    await using (var count = updaterPool.CreateCommand("select count(*) from co_purchase_queue"))
        backlog = (long)(await count.ExecuteScalarAsync())!;
    lock (committed) ingesting = false;
    await watcher;
    var appliedSeconds = clock.Elapsed.TotalSeconds;
    var serverSeconds = cpu is null ? (double?)null : (cpu.Read() - serverCpu!.Value).TotalSeconds;
    await stopUpdater.CancelAsync();
    await updating;

    lags.Sort();
    Console.WriteLine(
        $"| {(linesPerSecond > 0 ? linesPerSecond.ToString("N0") : "unpaced")} | {lineCount / ingestSeconds:N0} | {lineCount / appliedSeconds:N0} | " +
        $"{Percentile(lags, 0.50):N0} | {Percentile(lags, 0.95):N0} | {lags[^1]:N0} | {backlog:N0} | " +
        $"{(serverSeconds is { } s ? (s * 1000 / lineCount).ToString("F3") : "n/a")} |");
    Console.Error.WriteLine($"  sustained {linesPerSecond}/s: {lineCount:N0} lines, {ingestSeconds:F1} s ingest, {appliedSeconds:F1} s until applied, " +
                            $"client CPU {(Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalSeconds:F1} s, load {LoadAverage()}");
}

static string Marker(int batch, string side) => $"~marker{batch}{side}";

static async Task<Sample> MeasureAsync(ServerCpu? cpu, Func<Task> work)
{
    var client = Process.GetCurrentProcess().TotalProcessorTime;
    var server = cpu?.Read();
    var clock = Stopwatch.StartNew();
    await work();
    clock.Stop();
    return new Sample(clock.Elapsed, cpu is null ? null : cpu.Read() - server!.Value,
        Process.GetCurrentProcess().TotalProcessorTime - client, LoadAverage());
}

static void PrintPhase(string phase, int items, Sample sample)
{
    var server = sample.ServerCpu is { } cpu
        ? $"{cpu.TotalSeconds:F1} | {items / cpu.TotalSeconds:N0}"
        : "n/a | n/a";
    Console.WriteLine($"| {phase} | {items:N0} | {sample.Wall.TotalSeconds:F1} | {items / sample.Wall.TotalSeconds:N0} | {server} | " +
                      $"{sample.ClientCpu.TotalSeconds:F1} | {sample.LoadAverage} |");
}

static double Percentile(List<double> sorted, double q) => sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(q * sorted.Count))];

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

internal sealed record Sample(TimeSpan Wall, TimeSpan? ServerCpu, TimeSpan ClientCpu, string LoadAverage);
