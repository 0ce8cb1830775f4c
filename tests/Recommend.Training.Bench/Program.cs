using System.Diagnostics;
using Recommend.Core.History;
using Recommend.Core.Learning;
using Recommend.Training;

// Training cost of the learned item-to-item model on synthetic histories: Zipf-popular products (s = 1), customers
// with a log-normal number of distinct products (median 12), each customer's products drawn around one of 50 themes.
// Prints one Markdown row per catalog size: fit time, peak managed memory, neighbours kept, and the memory the host
// holds for the served model (ItemToItemModel built from the fitted rows, measured after the rows are dropped).
//   dotnet run -c Release --project tests/Recommend.Training.Bench -- [products=10000,100000,1000000] [customers-per-product=0.5] [threads=1]
var sizes = (args.Length > 0 ? args[0] : "10000,100000,1000000").Split(',').Select(int.Parse).ToArray();
var customersPerProduct = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0.5;
var threads = args.Length > 2 ? int.Parse(args[2]) : 1;

Console.WriteLine($"| products | customers | purchases (distinct user×product) | dense (EASE) items | fit | peak managed memory | neighbours kept | served model |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var products in sizes)
{
    var customers = (int)(products * customersPerProduct);
    var matrix = await PurchaseMatrix.BuildAsync(Synthetic(products, customers, seed: 7), 1_000, CancellationToken.None);
    GC.Collect();
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var options = new TrainingOptions { Threads = threads };
    var clock = Stopwatch.StartNew();
    var peak = 0L;
    using var sampler = new Timer(_ => peak = Math.Max(peak, GC.GetTotalMemory(false)), null, 0, 50);
    var fitted = ItemModelFitter.Fit(matrix, options, CancellationToken.None);
    clock.Stop();
    var peakBytes = Math.Max(peak, GC.GetTotalMemory(false)) - before;
    var kept = fitted.Rows.Values.Sum(r => (long)r.Length);
    var served = ServedModelBytes(fitted);
    Console.WriteLine($"| {products:N0} | {customers:N0} | {matrix.Purchases:N0} | {fitted.DenseItems:N0} | {clock.Elapsed.TotalSeconds:F1} s | {peakBytes / 1e6:F0} MB | {kept:N0} | {served / 1e6:F0} MB |");
}

// What the host keeps once the fitted rows are garbage: the model alone, over its own copies of the ids (as a host that
// loaded it from the store holds them).
static long ServedModelBytes(ItemModelFitter.Fitted fitted)
{
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var model = Build(fitted);
    var after = GC.GetTotalMemory(forceFullCollection: true);
    GC.KeepAlive(model);
    return after - before;
}

[System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
static ItemToItemModel Build(ItemModelFitter.Fitted fitted)
{
    var info = new ItemModelInfo(1, DateTimeOffset.UnixEpoch, fitted.Method, fitted.Rows.Count, 0, 0, TimeSpan.Zero);
    var ids = new Dictionary<string, string>(StringComparer.Ordinal);
    string Copy(string id) => ids.TryGetValue(id, out var copy) ? copy : ids[id] = new string(id);
    return new ItemToItemModel(info, fitted.Rows.ToDictionary(r => Copy(r.Key), r => r.Value.Select(n => n with { ProductId = Copy(n.ProductId) }).ToArray()));
}

static async IAsyncEnumerable<PurchaseSummary> Synthetic(int products, int customers, int seed)
{
    var random = new Random(seed);
    // Zipf over products by inverse-CDF on the harmonic series.
    var cumulative = new double[products];
    var total = 0.0;
    for (var p = 0; p < products; p++) cumulative[p] = total += 1.0 / (p + 1);
    const int themes = 50;
    var at = DateTimeOffset.UnixEpoch;
    for (var u = 0; u < customers; u++)
    {
        var theme = random.Next(themes);
        var count = Math.Clamp((int)Math.Exp(Math.Log(12) + 0.9 * Normal(random)), 1, 2_000);
        var bought = new SortedSet<int>();
        while (bought.Count < count)
        {
            var rank = Array.BinarySearch(cumulative, random.NextDouble() * total);
            var product = rank < 0 ? ~rank : rank;
            // Three in four picks stay within the customer's theme (products ≡ theme mod themes).
            if (random.NextDouble() < 0.75) product = product - product % themes + theme;
            bought.Add(Math.Min(product, products - 1));
        }
        foreach (var product in bought) yield return new PurchaseSummary($"u{u:D8}", $"p{product}", 1 + random.Next(3), at);
    }
    await Task.CompletedTask;
}

static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
