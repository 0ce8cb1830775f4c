using System.CommandLine;
using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Recommend.Contracts.V1;
using Recommend.Import;
using Recommend.Indexing.Sources;
using Spectre.Console;
using CoreEventType = Recommend.Core.History.EventType;
using UserEvent = Recommend.Core.History.UserEvent;

namespace Recommend.Cli;

/// <summary>
/// <c>recommend import products|history FILE</c>: bulk loads into a running server. History goes over the streaming
/// ImportEvents RPC with several batches in flight; products as UpsertProducts batches. Both checkpoint after every
/// acknowledged batch and resume from there, and both are idempotent (product ids, event ids).
/// </summary>
internal static class ImportCommands
{
    public static Command Create()
    {
        var server = ServerConnection.ServerOption();
        var file = new Argument<string>("file") { Description = "CSV or JSONL (optionally .gz): the generic layout or the raw UCI transactions file" };
        var progress = new Option<string>("--progress") { Description = "bar (live progress bar) or json (one JSON object per line)", DefaultValueFactory = _ => "bar" };
        progress.AcceptOnlyFromAmong("bar", "json");
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Where progress is saved for resuming (default: FILE.import-checkpoint)" };
        var restart = new Option<bool>("--restart") { Description = "Ignore a saved checkpoint and send the whole file again (nothing is stored twice)" };

        var historyBatch = new Option<int>("--batch") { Description = "Events per batch (1-10000)", DefaultValueFactory = _ => 5_000 };
        var inFlight = new Option<int>("--in-flight") { Description = "Batches sent ahead of their acknowledgement", DefaultValueFactory = _ => 4 };
        var history = new Command("history", "Import a purchase and event history") { file, server, historyBatch, inFlight, progress, checkpoint, restart };
        history.SetAction((r, ct) => RunAsync(r.GetValue(file)!, "history", r.GetValue(checkpoint), r.GetValue(restart), r.GetValue(progress)!,
            (path, state, report, token) => ImportHistoryAsync(r.GetValue(server)!, path, state, report, Math.Clamp(r.GetValue(historyBatch), 1, 10_000),
                Math.Max(1, r.GetValue(inFlight)), token), ct));

        var productBatch = new Option<int>("--batch") { Description = "Products per batch", DefaultValueFactory = _ => 500 };
        var products = new Command("products", "Import (upsert) a catalog") { file, server, productBatch, progress, checkpoint, restart };
        products.SetAction((r, ct) => RunAsync(r.GetValue(file)!, "products", r.GetValue(checkpoint), r.GetValue(restart), r.GetValue(progress)!,
            (path, state, report, token) => ImportProductsAsync(r.GetValue(server)!, path, state, report, Math.Max(1, r.GetValue(productBatch)), token), ct));

        return new Command("import", "Bulk import into a running server: resumable, idempotent, with a summary of skipped and rejected rows") { products, history };
    }

    private delegate Task ImportAsync(string path, ImportCheckpoint state, Action<ImportCheckpoint> report, CancellationToken ct);

    private static async Task<int> RunAsync(string path, string kind, string? checkpointPath, bool restart, string style, ImportAsync import, CancellationToken ct)
    {
        checkpointPath ??= path + ".import-checkpoint";
        ImportCheckpoint state;
        long totalLines;
        try
        {
            state = restart ? new ImportCheckpoint { Kind = kind, Fingerprint = ImportFile.Fingerprint(path) } : ImportCheckpoint.Load(checkpointPath, kind, ImportFile.Fingerprint(path));
            // Positions are lines, or for a UCI product import ordinals among the derived products.
            totalLines = kind == "products" ? await ProductFile.CountPositionsAsync(path, ct) : await ImportFile.CountLinesAsync(path, ct);
        }
        catch (Exception e) when (e is ImportException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        if (state.Position > 0) Console.Error.WriteLine($"resuming {kind} import of {path} after position {state.Position} (--restart to start over)");
        var clock = Stopwatch.StartNew();
        var startPosition = state.Position;

        void Save(ImportCheckpoint s) => s.Save(checkpointPath);
        try
        {
            if (style == "json")
            {
                await import(path, state, s =>
                {
                    Save(s);
                    Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { kind, position = s.Position, total = totalLines, accepted = s.Accepted, duplicates = s.Duplicates, skipped = s.Skipped.Values.Sum(), rejected = s.Rejected }));
                }, ct);
            }
            else
            {
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async context =>
                    {
                        var task = context.AddTask(kind, maxValue: Math.Max(1, totalLines));
                        await import(path, state, s =>
                        {
                            Save(s);
                            task.Value = Math.Min(s.Position, task.MaxValue);
                            var rate = (s.Position - startPosition) / Math.Max(0.001, clock.Elapsed.TotalSeconds);
                            task.Description = Markup.Escape($"{kind} {s.Position}/{totalLines} · {s.Accepted} new · {s.Duplicates} duplicates · {rate:F0} lines/s");
                        }, ct);
                        task.Value = task.MaxValue;
                    });
            }
        }
        catch (ImportException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        File.Delete(checkpointPath);
        PrintSummary(kind, path, state, clock.Elapsed, state.Position - startPosition);
        return 0;
    }

    private static async Task ImportHistoryAsync(string server, string path, ImportCheckpoint state, Action<ImportCheckpoint> report, int batchSize, int inFlight, CancellationToken ct)
    {
        using var channel = ServerConnection.Open(server);
        using var call = new Events.EventsClient(channel).ImportEvents(cancellationToken: ct);
        // Batches sent and not yet acknowledged, oldest first; the server acknowledges them in order.
        var sent = new Queue<PendingBatch>();
        var window = new SemaphoreSlim(inFlight);
        var acknowledgements = Task.Run(async () =>
        {
            await foreach (var ack in call.ResponseStream.ReadAllAsync(ct))
            {
                PendingBatch batch;
                lock (sent) batch = sent.Dequeue();
                batch.ApplyTo(state, ack.Accepted, ack.Duplicates);
                report(state);
                window.Release();
            }
        }, ct);

        var current = new PendingBatch();
        async Task SendAsync()
        {
            await window.WaitAsync(ct);
            if (acknowledgements.IsCompleted) await acknowledgements; // the server ended the call: surface its status
            lock (sent) sent.Enqueue(current);
            var request = new RecordEventsRequest();
            request.Events.AddRange(current.Events.Select(ToProto));
            await call.RequestStream.WriteAsync(request, ct);
            current = new PendingBatch();
        }

        await foreach (var row in HistoryFile.ReadAsync(path, ct))
        {
            if (row.Line <= state.Position) continue;
            current.Add(row);
            if (current.Events.Count >= batchSize) await SendAsync();
        }
        if (current.Events.Count > 0 || current.HasCounts) await SendAsync();
        await call.RequestStream.CompleteAsync();
        await acknowledgements;
    }

    /// <summary>One batch's events and the rows it accounts for: its position is final only once the server acknowledges it.</summary>
    private sealed class PendingBatch
    {
        private readonly Dictionary<string, long> _skipped = [];
        private readonly List<(long Line, string Problem)> _rejected = [];
        private long _lastLine;

        public List<UserEvent> Events { get; } = [];

        public bool HasCounts => _skipped.Count > 0 || _rejected.Count > 0;

        public void Add(HistoryRow row)
        {
            _lastLine = row.Line;
            if (row.Event is { } e) Events.Add(e);
            else if (row.Skipped is { } reason) _skipped[reason] = _skipped.GetValueOrDefault(reason) + 1;
            else _rejected.Add((row.Line, row.Rejected ?? "rejected"));
        }

        public void ApplyTo(ImportCheckpoint state, long accepted, long duplicates)
        {
            state.Position = _lastLine;
            state.Accepted += accepted;
            state.Duplicates += duplicates;
            foreach (var (reason, count) in _skipped) state.Skip(reason, count);
            foreach (var (line, problem) in _rejected) state.Reject(line, problem);
        }
    }

    private static async Task ImportProductsAsync(string server, string path, ImportCheckpoint state, Action<ImportCheckpoint> report, int batchSize, CancellationToken ct)
    {
        using var channel = ServerConnection.Open(server);
        var client = new Catalog.CatalogClient(channel);
        var batch = new List<Product>();
        var rejected = new List<SourceRow>();
        var lastPosition = state.Position;

        async Task SendAsync()
        {
            if (batch.Count > 0)
            {
                // One call per batch: its response is the acknowledgement the checkpoint needs.
                using var call = client.UpsertProducts(cancellationToken: ct);
                var request = new UpsertProductsRequest();
                request.Products.AddRange(batch);
                await call.RequestStream.WriteAsync(request, ct);
                await call.RequestStream.CompleteAsync();
                state.Accepted += (await call.ResponseAsync).Upserted;
            }
            foreach (var row in rejected) state.Reject(row.Line, row.Error!.Message);
            state.Position = lastPosition;
            report(state);
            batch.Clear();
            rejected.Clear();
        }

        await foreach (var row in ProductFile.ReadAsync(path, state.Position, ct))
        {
            lastPosition = row.Line;
            if (row.Product is { } product)
            {
                var message = new Product { ProductId = product.Id, Title = product.Title, Description = product.Description, Category = product.Category, Price = product.Price, InStock = product.InStock };
                foreach (var (key, value) in product.Attributes) message.Attributes[key] = value;
                batch.Add(message);
            }
            else rejected.Add(row);
            if (batch.Count >= batchSize) await SendAsync();
        }
        await SendAsync();
    }

    private static Event ToProto(UserEvent e) => new()
    {
        EventId = e.EventId,
        Type = e.Type switch
        {
            CoreEventType.View => EventType.View,
            CoreEventType.Click => EventType.Click,
            CoreEventType.AddToCart => EventType.AddToCart,
            _ => EventType.Purchase,
        },
        UserId = e.UserId,
        ProductId = e.ProductId,
        Quantity = e.Quantity,
        Price = e.Price,
        OccurredAt = Timestamp.FromDateTimeOffset(e.OccurredAt),
        OrderId = e.OrderId ?? "",
    };

    private static void PrintSummary(string kind, string path, ImportCheckpoint state, TimeSpan elapsed, long linesThisRun)
    {
        var table = new Table().AddColumns("", "rows");
        table.AddRow(kind == "history" ? "events stored" : "products upserted", $"{state.Accepted:N0}");
        if (kind == "history") table.AddRow("already stored (duplicates)", $"{state.Duplicates:N0}");
        foreach (var (reason, count) in state.Skipped.OrderByDescending(s => s.Value))
            table.AddRow(Markup.Escape($"skipped: {reason}"), $"{count:N0}");
        table.AddRow("rejected", $"{state.Rejected:N0}");
        AnsiConsole.Write(table);
        Console.WriteLine($"{path}: {linesThisRun:N0} lines in {elapsed.TotalSeconds:F1} s ({linesThisRun / Math.Max(0.001, elapsed.TotalSeconds):N0} lines/s)");
        foreach (var rejection in state.Rejections) Console.Error.WriteLine($"rejected {rejection}");
        if (state.Rejected > state.Rejections.Count) Console.Error.WriteLine($"... and {state.Rejected - state.Rejections.Count} more rejected rows");
    }
}
