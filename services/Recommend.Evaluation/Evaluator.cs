using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Recommend.Core.Catalog;
using Recommend.Core.Learning;
using Recommend.Core.Ranking;

namespace Recommend.Evaluation;

/// <summary>What one evaluation run is asked to do.</summary>
/// <param name="Split">Train before Start, evaluate on [Start, End).</param>
/// <param name="Profiles">Ranking profiles to score besides the configured default, by name.</param>
/// <param name="Period">"test" or "validation", for the report.</param>
public sealed record EvaluationRequest(EvaluationDataset Dataset, string Period, TimeSplit Split, int K, IReadOnlyDictionary<string, RankingProfile> Profiles);

/// <param name="Kind">baseline (fitted in memory), source (one candidate source of the service alone) or profile.</param>
public sealed record MethodResult(string Method, string Kind, MethodScore NewItems, MethodScore BuyAgain);

public sealed record EvaluationReport(
    string Dataset, string Period, DateTimeOffset TrainedBefore, DateTimeOffset? EvaluatedBefore, int K, int CatalogProducts, int TrainingPurchases,
    int NewItemsCustomers, int BuyAgainCustomers, string Embedder, ItemModelInfo? Model, IReadOnlyList<MethodResult> Methods, double Seconds);

/// <summary>Where a run is: the stage, and how far through it.</summary>
public sealed record EvaluationProgress(string Stage, int Done, int Total);

/// <summary>
/// Scores every method in both settings on the same customers: the baselines, each candidate source of the service
/// alone, and each ranking profile through the engine.
/// </summary>
public static class Evaluator
{
    public static async Task<EvaluationReport> RunAsync(EvaluationRequest request, IConfiguration configuration, IProgress<EvaluationProgress>? progress,
        CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var parts = request.Split.Split(request.Dataset.Purchases);
        var catalog = CatalogAtSplit(request.Dataset, parts);
        var newItems = TimeSplit.Cases(parts, Setting.NewItems);
        var buyAgain = TimeSplit.Cases(parts, Setting.BuyAgain);

        await using var service = await EvaluatedService.BuildAsync(configuration, catalog, parts.Train,
            new Progress<(int Done, int Total)>(p => progress?.Report(new EvaluationProgress("loading the stores and training", p.Done, p.Total))), ct);
        progress?.Report(new EvaluationProgress("fitting the baselines", 0, 1));
        var baselines = await Baselines.FitAsync(parts.Train, ct);

        var rankers = new List<(IRanker Ranker, string Kind)>
        {
            (baselines.Popularity(), "baseline"),
            (baselines.ItemKnn(), "baseline"),
            (baselines.Ease(ct), "baseline"),
            (baselines.Repeats(), "baseline"),
        };
        foreach (var (name, profile) in SourcesAlone(service.DefaultProfile)) rankers.Add((service.Ranker(name, profile), "source"));
        rankers.Add((service.Ranker(RankingProfile.DefaultName, service.DefaultProfile), "profile"));
        foreach (var (name, profile) in request.Profiles) rankers.Add((service.Ranker(name, profile), "profile"));

        var methods = new List<MethodResult>();
        foreach (var (ranker, kind) in rankers)
        {
            var scoreNew = await ScoreAsync(ranker, newItems, Setting.NewItems, request.K, catalog.Count, progress, ct);
            var scoreAgain = await ScoreAsync(ranker, buyAgain, Setting.BuyAgain, request.K, catalog.Count, progress, ct);
            methods.Add(new MethodResult(ranker.Name, kind, scoreNew, scoreAgain));
        }
        return new EvaluationReport(request.Dataset.Name, request.Period, request.Split.Start, request.Split.End, request.K, catalog.Count,
            parts.Train.Count, newItems.Count, buyAgain.Count, service.Embedder, service.Model, methods, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Each candidate source with the others (buy-again included) switched off, so its own contribution shows.</summary>
    public static IEnumerable<(string Name, RankingProfile Profile)> SourcesAlone(RankingProfile defaults)
    {
        var alone = defaults with { SimilarityWeight = 0, CoPurchaseWeight = 0, TrendingWeight = 0, LearnedWeight = 0, BuyAgainWeight = 0, DiversityLambda = 1 };
        yield return ("co-purchase", alone with { Name = "co-purchase", Sources = CandidateSources.BoughtTogether, CoPurchaseWeight = 1 });
        yield return ("vector similarity", alone with { Name = "vector", Sources = CandidateSources.Similar, SimilarityWeight = 1 });
        yield return ("trending", alone with { Name = "trending", Sources = CandidateSources.Trending, TrendingWeight = 1 });
        yield return ("learned model", alone with { Name = "learned", Sources = CandidateSources.Learned, LearnedWeight = 1 });
    }

    /// <summary>Products a shop had at the split: all but those first sold after it (they did not exist yet).</summary>
    public static IReadOnlyList<Product> CatalogAtSplit(EvaluationDataset dataset, TimeSplit.Parts parts)
    {
        var sold = parts.Train.Select(p => p.ProductId).ToHashSet(StringComparer.Ordinal);
        var laterOnly = dataset.Purchases.Select(p => p.ProductId).Where(id => !sold.Contains(id)).ToHashSet(StringComparer.Ordinal);
        return dataset.Products.Where(p => !laterOnly.Contains(p.Id)).ToList();
    }

    public static async Task<MethodScore> ScoreAsync(IRanker ranker, IReadOnlyList<TestCase> cases, Setting setting, int k, int catalogSize,
        IProgress<EvaluationProgress>? progress, CancellationToken ct)
    {
        var metrics = new RankingMetrics(k, catalogSize);
        var done = 0;
        var stage = $"{ranker.Name} · {(setting == Setting.NewItems ? "new items" : "buy again")}";
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct },
            async (testCase, token) =>
            {
                metrics.Add(await ranker.RankAsync(testCase.UserId, setting, k, token), testCase.Targets);
                var finished = Interlocked.Increment(ref done);
                if (finished % 50 == 0 || finished == cases.Count) progress?.Report(new EvaluationProgress(stage, finished, cases.Count));
            });
        return metrics.Score();
    }
}
