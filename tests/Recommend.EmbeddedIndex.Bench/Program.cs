using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json;
using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex;

// Usage: Recommend.EmbeddedIndex.Bench PRODUCTS DIMENSION PRECISION [QUERIES] [EXPANSION_SEARCH] [DIRECTORY] [ROW_PRECISION] [BUILD_THREADS]
// One configuration per process, so resident memory belongs to it alone. Prints one JSON line of results.
var products = int.Parse(args[0]);
var dimension = int.Parse(args[1]);
var precision = Enum.Parse<VectorPrecision>(args[2], ignoreCase: true);
var queryCount = args.Length > 3 ? int.Parse(args[3]) : 500;
var expansionSearch = args.Length > 4 ? int.Parse(args[4]) : new EmbeddedIndexOptions().ExpansionSearch;
var directory = args.Length > 5 && args[5] != "-" ? args[5] : Path.Combine(Path.GetTempPath(), $"recommend-index-bench-{products}-{dimension}-{precision}");
// The exact rows of the measured pass; the ground truth always comes from f32 rows.
var rowPrecision = args.Length > 6 ? Enum.Parse<VectorPrecision>(args[6], ignoreCase: true) : VectorPrecision.F32;
// 0 = the host's default (one fewer than the cores); all cores when nothing else runs, for the largest builds.
var buildThreads = args.Length > 7 ? int.Parse(args[7]) : 0;
if (Directory.Exists(directory))
    Directory.Delete(directory, recursive: true);
var ct = CancellationToken.None;
var catalog = new SyntheticVectors(products, dimension, seed: 42);
var filters = new (string Name, Func<int, ProductFilter> Make)[]
{
    ("none", _ => ProductFilter.None),
    ("in stock", _ => new ProductFilter([], null, null, InStockOnly: true, [])),
    ("exclude 100", q => new ProductFilter([], null, null, false, Enumerable.Range(0, 100).Select(i => catalog.Id((q * 7919 + i * 104729) % products)).ToHashSet())),
    ("one category", q => new ProductFilter(new HashSet<string> { catalog.CategoryOf((q * 7919) % products) }, null, null, false, [])),
};
var queries = Enumerable.Range(0, queryCount).Select(catalog.Query).ToList();

// 1. Load through the public API with the graph disabled: the exact scan, and the ground truth.
var loadClock = Stopwatch.StartNew();
List<List<string>[]> truth;
Dictionary<string, Latency> exactLatency;
string version;
// The precision is fixed when a version is created, so it is chosen here although this pass builds no graph.
using (var exact = EmbeddedVectorIndex.Open(directory, new EmbeddedIndexOptions { Precision = precision, ExactSearchBelow = int.MaxValue }))
{
    version = (await exact.CreateVersionAsync(new IndexSpec("bench", dimension), ct)).Name;
    for (var start = 0; start < products; start += 5_000)
        await exact.UpsertAsync(version, catalog.Records(start, Math.Min(5_000, products - start)), ct);
    await exact.SetLiveVersionAsync(version, ct);
    loadClock.Stop();
    (truth, exactLatency) = await MeasureAsync(exact, queries, filters, Math.Min(queryCount, products >= 1_000_000 ? 100 : queryCount));
}
var bandwidth = ReadBandwidthGBs((long)products * dimension);

// 2. Reopen with the graph: it is built in the background, then searched.
var options = new EmbeddedIndexOptions { Precision = precision, ExactSearchBelow = 1, ExpansionSearch = expansionSearch, RowPrecision = rowPrecision, BuildThreads = buildThreads };
var buildClock = Stopwatch.StartNew();
long graphBytes;
Dictionary<string, Latency> graphLatency;
Dictionary<string, double> recall;
double saveSeconds;
using (var graph = EmbeddedVectorIndex.Open(directory, options))
{
    var opened = buildClock.Elapsed.TotalSeconds;
    await graph.WaitForGraphAsync(version, ct);
    buildClock.Stop();
    Console.Error.WriteLine($"replay {opened:F1} s, graph built in {buildClock.Elapsed.TotalSeconds - opened:F1} s");
    graphBytes = new FileInfo(Path.Combine(directory, "versions", version, "graph.usearch")).Length;
    List<List<string>[]> found;
    (found, graphLatency) = await MeasureAsync(graph, queries, filters, queryCount);
    recall = filters.Select((f, i) => (f.Name, Recall: Enumerable.Range(0, truth[i].Length).Average(q => RecallAt10(found[i][q], truth[i][q]))))
        .ToDictionary(x => x.Name, x => x.Recall);
    var saveClock = Stopwatch.StartNew();
    graph.Dispose();
    saveSeconds = saveClock.Elapsed.TotalSeconds;
}
var residentAfterBuild = ResidentBytes();

// 3. A restart: replay the log and load the saved graph.
var startClock = Stopwatch.StartNew();
using (var restarted = EmbeddedVectorIndex.Open(directory, options))
{
    startClock.Stop();
    if (restarted.DescribeGraph(version).State != GraphState.Ready)
        throw new InvalidOperationException("the saved graph was not loaded");
}

Console.WriteLine(JsonSerializer.Serialize(new
{
    products, dimension, precision = precision.ToString(), rowPrecision = rowPrecision.ToString(), queries = queryCount, expansionSearch,
    loadSeconds = Math.Round(loadClock.Elapsed.TotalSeconds, 1),
    readBandwidthGBs = Math.Round(bandwidth, 1),
    exact = exactLatency,
    graph = graphLatency,
    recallAt10 = recall.ToDictionary(r => r.Key, r => Math.Round(r.Value, 4)),
    buildSeconds = Math.Round(buildClock.Elapsed.TotalSeconds, 1),
    graphFileMegabytes = graphBytes / 1_000_000,
    saveSeconds = Math.Round(saveSeconds, 1),
    restartSeconds = Math.Round(startClock.Elapsed.TotalSeconds, 1),
    peakResidentMegabytes = PeakResidentBytes() / 1_000_000,
    residentAfterBuildMegabytes = residentAfterBuild / 1_000_000,
}));
Directory.Delete(directory, recursive: true);

static async Task<(List<List<string>[]> Found, Dictionary<string, Latency> Latency)> MeasureAsync(
    EmbeddedVectorIndex index, List<float[]> queries, (string Name, Func<int, ProductFilter> Make)[] filters, int count)
{
    var found = new List<List<string>[]>();
    var latency = new Dictionary<string, Latency>();
    foreach (var (name, make) in filters)
    {
        var results = new List<string>[count];
        var times = new double[count];
        for (var q = 0; q < count; q++)
        {
            var filter = make(q);
            var clock = Stopwatch.StartNew();
            var hits = await index.SearchAsync(new VectorQuery(queries[q], 10, filter), CancellationToken.None);
            times[q] = clock.Elapsed.TotalMilliseconds;
            results[q] = hits.Select(h => h.ProductId).ToList();
        }
        Array.Sort(times);
        latency[name] = new Latency(Math.Round(times[count / 2], 3), Math.Round(times[(int)(count * 0.99)], 3));
        found.Add(results);
    }
    return (found, latency);
}

static double RecallAt10(List<string> found, List<string> truth) =>
    truth.Count == 0 ? 1 : (double)found.Intersect(truth).Count() / truth.Count;

// The same bytes the exact scan reads, summed once: what the memory system delivers to one core.
static double ReadBandwidthGBs(long floats)
{
    var buffer = new float[Math.Min(floats, 256L * 1024 * 1024)];
    Array.Fill(buffer, 1f);
    TensorPrimitives.Sum(buffer);
    var clock = Stopwatch.StartNew();
    var rounds = 0;
    do
    {
        TensorPrimitives.Sum(buffer);
        rounds++;
    } while (clock.Elapsed.TotalSeconds < 1);
    return buffer.Length * 4.0 * rounds / clock.Elapsed.TotalSeconds / 1e9;
}

static long ResidentBytes() => StatusKilobytes("VmRSS:") * 1024;

static long PeakResidentBytes() => StatusKilobytes("VmHWM:") * 1024;

// A tab follows the name, then spaces pad the value to eight digits: none are left from 10,000,000 kB on.
static long StatusKilobytes(string field) =>
    long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field)).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]);

internal sealed record Latency(double P50Ms, double P99Ms);

/// <summary>
/// Clustered unit vectors (a product's text embedding sits near others of its kind), a category per cluster group,
/// two thirds in stock. Deterministic for a seed; records are generated in slices, never all held at once.
/// </summary>
internal sealed class SyntheticVectors(int products, int dimension, int seed)
{
    private readonly float[][] _centres = Centres(Math.Max(16, products / 200), dimension, seed);

    public string Id(int i) => $"p{i:D7}";

    public string CategoryOf(int i) => $"c{ClusterOf(i) % Math.Max(4, products / 2_000)}";

    public IReadOnlyList<VectorRecord> Records(int start, int count) =>
        Enumerable.Range(start, count).Select(i => new VectorRecord(Id(i), Vector(i), CategoryOf(i), 1 + i % 97, i % 3 != 0, $"product {i}")).ToList();

    /// <summary>A query near a stored product, as SimilarProducts and profile queries are.</summary>
    public float[] Query(int q)
    {
        var random = new Random(seed * 31 + q);
        var vector = Vector(random.Next(products));
        for (var d = 0; d < vector.Length; d++)
            vector[d] += (float)(random.NextDouble() - 0.5) * 0.02f;
        return vector;
    }

    private int ClusterOf(int i) => (int)((uint)(i * 2654435761u) % (uint)_centres.Length);

    private float[] Vector(int i)
    {
        var random = new Random(seed + i);
        var centre = _centres[ClusterOf(i)];
        var vector = new float[dimension];
        for (var d = 0; d < dimension; d++)
            vector[d] = centre[d] + (float)(random.NextDouble() - 0.5) * 0.08f;
        return vector;
    }

    private static float[][] Centres(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var centre = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var norm = TensorPrimitives.Norm(centre);
            return centre.Select(x => x / norm).ToArray();
        }).ToArray();
    }
}
