using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Grpc.Health.V1;
using Recommend.Contracts.V1;
using Recommend.Core.History;
using Recommend.Import;
using Recommend.SampleData;

namespace Recommend.Cli;

/// <summary>
/// Open-loop load at a fixed request rate against a running server, reporting latency percentiles. Sends never wait
/// for earlier answers, so a slow server cannot slow the offered load (no coordinated omission); latency runs from
/// the moment a request is sent, and how late the sender itself was against its schedule is reported separately, as is
/// the generator's own CPU time per request.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var server = ServerConnection.ServerOption();
        var call = new Option<string>("--call")
        {
            Description = "similar | recommend | bought-together | trending | search | health (grpc.health.v1 Check: the no-op floor), or the writes: events (one purchase per request) | upsert (one product)",
            DefaultValueFactory = _ => "similar",
        };
        var rate = new Option<int>("--rate") { Description = "Requests per second", DefaultValueFactory = _ => 200 };
        var seconds = new Option<int>("--seconds") { Description = "Measured duration", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "Unmeasured warm-up seconds", DefaultValueFactory = _ => 5 };
        var placement = new Option<string>("--placement") { Description = "Placement the requests name (an experiment running there serves them)", DefaultValueFactory = _ => "" };
        var products = new Option<string?>("--products") { Description = "Product file the server was loaded from (ids and titles to ask about); default: the bundled sample" };
        var history = new Option<string?>("--history") { Description = "History file the server was loaded from (the customers to ask for); default: the bundled sample" };
        var offset = new Option<int>("--offset")
        {
            Description = "Number of the first request (each number picks its customer and products): runs from different offsets ask different questions",
        };
        var command = new Command("bench", "Fixed-rate latency benchmark of one call against a running server")
        {
            server, call, rate, seconds, warmup, placement, products, history, offset,
        };
        command.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var ids = r.GetValue(products) is { } productFile
                ? await FileIdsAsync(productFile, r.GetValue(history) ?? throw new ArgumentException("--products needs --history"), ct)
                : await SampleIdsAsync(ct);
            var send = Request(channel, r.GetValue(call)!, r.GetValue(placement)!, ids);
            // The measured run goes on from the warm-up's last request: a repeated question would find the answer's rows in
            // the server's caches.
            var warmupRun = await RunAsync(send, r.GetValue(offset), r.GetValue(rate), TimeSpan.FromSeconds(r.GetValue(warmup)), ct);
            var result = await RunAsync(send, r.GetValue(offset) + warmupRun.Requests, r.GetValue(rate), TimeSpan.FromSeconds(r.GetValue(seconds)), ct);
            Console.WriteLine(result.Format(r.GetValue(call)!, r.GetValue(rate)));
            return result.Errors == 0 ? 0 : 1;
        });
        return command;
    }

    private sealed record SampleIds(string[] Products, string[] Titles, string[] Users);

    private static async Task<SampleIds> SampleIdsAsync(CancellationToken ct)
    {
        var users = new HashSet<string>();
        await foreach (UserEvent purchase in SampleCatalog.PurchasesAsync(ct)) users.Add(purchase.UserId);
        var products = SampleCatalog.Products();
        return new SampleIds(products.Select(p => p.Id).ToArray(), products.Select(p => p.Title).ToArray(), users.Order().ToArray());
    }

    /// <summary>Ids from the files a server was imported from (e.g. <c>recommend generate</c>'s shop): its products, its buyers.</summary>
    private static async Task<SampleIds> FileIdsAsync(string productPath, string historyPath, CancellationToken ct)
    {
        var (ids, titles) = (new List<string>(), new List<string>());
        await foreach (var row in ProductFile.ReadAsync(productPath, afterPosition: 0, ct))
        {
            if (row.Product is not { } product) continue;
            ids.Add(product.Id);
            titles.Add(product.Title);
        }
        var users = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in HistoryFile.ReadAsync(historyPath, ct))
        {
            if (row.Event is { Type: Core.History.EventType.Purchase } purchase) users.Add(purchase.UserId);
        }
        if (ids.Count == 0 || users.Count == 0) throw new ArgumentException($"no products in {productPath} or no buyers in {historyPath}");
        return new SampleIds(ids.ToArray(), titles.ToArray(), users.Order(StringComparer.Ordinal).ToArray());
    }

    private static Func<int, Task> Request(ChannelBase channel, string call, string placement, SampleIds ids)
    {
        var client = new Recommendations.RecommendationsClient(channel);
        string Product(int i) => ids.Products[(int)((uint)(i * 7919) % ids.Products.Length)];
        string User(int i) => ids.Users[(int)((uint)(i * 104729) % ids.Users.Length)];
        string Title(int i) => ids.Titles[(int)((uint)(i * 7919) % ids.Titles.Length)];
        var run = Guid.NewGuid().ToString("N")[..8]; // event ids unique per run, so a rerun records rather than deduplicates
        return call switch
        {
            "similar" => i => client.SimilarProductsAsync(new SimilarProductsRequest { ProductId = Product(i), Placement = placement }).ResponseAsync,
            "recommend" => i => client.RecommendAsync(new RecommendRequest { UserId = User(i), ContextProductIds = { Product(i) }, Placement = placement }).ResponseAsync,
            "bought-together" => i => client.FrequentlyBoughtTogetherAsync(new FrequentlyBoughtTogetherRequest { ProductIds = { Product(i) }, Placement = placement }).ResponseAsync,
            "trending" => _ => client.TrendingAsync(new TrendingRequest { Placement = placement }).ResponseAsync,
            "search" => i => client.SearchProductsAsync(new SearchProductsRequest { Query = Title(i), Placement = placement }).ResponseAsync,
            // The floor: a call that does no work, through the same host, transport and client.
            "health" => _ => new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest()).ResponseAsync,
            "events" => i => new Events.EventsClient(channel).RecordEventsAsync(new RecordEventsRequest
            {
                Events =
                {
                    new Event
                    {
                        EventId = $"bench-{run}-{i}", Type = Contracts.V1.EventType.Purchase, UserId = User(i), ProductId = Product(i),
                        OrderId = $"bench-{run}-{i / 3}", Quantity = 1, Price = 1,
                    },
                },
            }).ResponseAsync,
            // A bounded set of ids, rewritten over and over: the catalog does not grow during a soak.
            "upsert" => async i =>
            {
                using var upsert = new Catalog.CatalogClient(channel).UpsertProducts();
                await upsert.RequestStream.WriteAsync(new UpsertProductsRequest
                {
                    Products = { new Product { ProductId = $"bench-{i % 500}", Title = $"BENCH PRODUCT {i % 500} REVISION {i}", Category = "Bench", Price = 1 + i % 50, InStock = true } },
                });
                await upsert.RequestStream.CompleteAsync();
                await upsert;
            },
            _ => throw new ArgumentException($"unknown call '{call}'"),
        };
    }

    private static async Task<BenchResult> RunAsync(Func<int, Task> send, int first, int rate, TimeSpan duration, CancellationToken ct)
    {
        var latencies = new ConcurrentBag<double>();
        var errors = 0;
        var senderLateMs = 0.0;
        var inFlight = new List<Task>();
        var total = (int)(rate * duration.TotalSeconds);
        // The generator's own CPU: on a machine it shares with the server, that much is not the server's.
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            var scheduled = TimeSpan.FromSeconds((double)i / rate);
            var wait = scheduled - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            var sent = clock.Elapsed;
            senderLateMs = Math.Max(senderLateMs, (sent - scheduled).TotalMilliseconds);
            inFlight.Add(Measure(send(first + i), sent));
        }
        await Task.WhenAll(inFlight);
        var cpuMs = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
        return new BenchResult(latencies.Order().ToArray(), errors, senderLateMs, cpuMs / Math.Max(1, total));

        async Task Measure(Task call, TimeSpan sent)
        {
            try
            {
                await call;
                latencies.Add((clock.Elapsed - sent).TotalMilliseconds);
            }
            catch (RpcException)
            {
                Interlocked.Increment(ref errors);
            }
        }
    }

    private sealed record BenchResult(double[] SortedMs, int Errors, double MaxSenderLateMs, double ClientCpuMsPerRequest)
    {
        public int Requests => SortedMs.Length + Errors;

        private double Percentile(double p) => SortedMs.Length == 0 ? double.NaN : SortedMs[Math.Min(SortedMs.Length - 1, (int)Math.Ceiling(p * SortedMs.Length) - 1)];

        public string Format(string call, int rate) => string.Create(CultureInfo.InvariantCulture,
            $"| {call} | {rate} | {Requests} | {Errors} | {Percentile(0.50):F2} | {Percentile(0.90):F2} | {Percentile(0.95):F2} | {Percentile(0.99):F2} | {SortedMs.LastOrDefault():F2} | {MaxSenderLateMs:F1} | {ClientCpuMsPerRequest:F2} |");
    }
}
