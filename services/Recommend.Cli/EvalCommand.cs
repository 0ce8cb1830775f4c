using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Recommend.Core.Ranking;
using Recommend.Evaluation;
using Spectre.Console;

namespace Recommend.Cli;

/// <summary>
/// <c>recommend eval</c>: offline evaluation of the ranking on a purchase history split by time (Evaluation engine), with
/// a live progress bar, a table on stdout, a JSON report and a chart; <c>--tune</c> searches the default profile on the
/// validation period.
/// </summary>
internal static class EvalCommand
{
    private static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "\"sample\" (bundled), a directory with the UCI files, or one with products.csv + purchases.csv", DefaultValueFactory = _ => EvaluationDataset.SampleName };
        var split = new Option<string>("--split") { Description = "Test split: train before this date, evaluate from it", DefaultValueFactory = _ => "2011-11-09" };
        var validationSplit = new Option<string>("--validation-split") { Description = "Validation split: train before it, evaluate up to --split (for tuning)", DefaultValueFactory = _ => "2011-10-09" };
        var period = new Option<string>("--period") { Description = "test (from --split on) or validation ([--validation-split, --split))", DefaultValueFactory = _ => "test" };
        period.AcceptOnlyFromAmong("test", "validation");
        var k = new Option<int>("--k") { Description = "List length scored", DefaultValueFactory = _ => 10 };
        var profiles = new Option<FileInfo?>("--profiles") { Description = "JSON object of named ranking profiles to score besides the default, e.g. {\"fresh\": {\"ProfileHalfLife\": \"7.00:00:00\"}}" };
        var output = new Option<string>("--output") { Description = "JSON report", DefaultValueFactory = _ => "recommend-eval.json" };
        var chart = new Option<string>("--chart") { Description = "Chart of NDCG by method (.png or .svg)", DefaultValueFactory = _ => "recommend-eval.png" };
        var tune = new Option<bool>("--tune") { Description = "Search the default profile's weights, half-life, size and diversity on the validation period" };
        var rounds = new Option<int>("--rounds") { Description = "Coordinate-search rounds for --tune", DefaultValueFactory = _ => 2 };
        var command = new Command("eval", "Offline evaluation: NDCG, recall, precision, MRR, hit rate and coverage of baselines, sources and profiles")
        {
            data, split, validationSplit, period, k, profiles, output, chart, tune, rounds,
        };
        command.SetAction(async (r, ct) =>
        {
            try
            {
                return await RunAsync(r, ct);
            }
            catch (Exception e) when (e is DatasetException or ArgumentException or IOException or JsonException)
            {
                await Console.Error.WriteLineAsync($"eval: {e.Message}");
                return 2;
            }
        });
        return command;

        async Task<int> RunAsync(ParseResult r, CancellationToken ct)
        {
            var testStart = Date(r.GetValue(split)!, "--split");
            var validationStart = Date(r.GetValue(validationSplit)!, "--validation-split");
            if (validationStart >= testStart) throw new ArgumentException("--validation-split must be before --split");
            var onValidation = r.GetValue(tune) || r.GetValue(period) == "validation";
            var timeSplit = onValidation ? new TimeSplit(validationStart, testStart) : new TimeSplit(testStart, null);
            var dataset = await EvaluationDataset.LoadAsync(r.GetValue(data)!, ct);
            var configuration = new ConfigurationBuilder().AddJsonFile("appsettings.json", optional: true).AddEnvironmentVariables().Build();
            var request = new EvaluationRequest(dataset, onValidation ? "validation" : "test", timeSplit, r.GetValue(k), ReadProfiles(r.GetValue(profiles)));
            return r.GetValue(tune)
                ? await TuneAsync(request, configuration, r.GetValue(rounds), r.GetValue(output)!, ct)
                : await EvaluateAsync(request, configuration, r.GetValue(output)!, r.GetValue(chart)!, ct);
        }
    }

    private static async Task<int> EvaluateAsync(EvaluationRequest request, IConfiguration configuration, string output, string chart, CancellationToken ct)
    {
        var report = await WithProgressAsync(progress => Evaluator.RunAsync(request, configuration, progress, ct));
        var table = new Table().AddColumns("method", "kind", "setting", $"NDCG@{report.K}", $"Recall@{report.K}", $"Precision@{report.K}", "MRR", "hit rate", "coverage", "customers");
        foreach (var method in report.Methods)
        {
            foreach (var (setting, score) in new[] { ("new items", method.NewItems), ("buy again", method.BuyAgain) })
            {
                table.AddRow(Markup.Escape(method.Method), method.Kind, setting, F(score.Ndcg), F(score.Recall), F(score.Precision), F(score.Mrr), F(score.HitRate),
                    F(score.Coverage), score.Users.ToString(CultureInfo.InvariantCulture));
            }
        }
        AnsiConsole.MarkupLineInterpolated($"[bold]{report.Dataset}[/], {report.Period} period: trained on {report.TrainingPurchases} purchases before {report.TrainedBefore:yyyy-MM-dd}, {report.CatalogProducts} products, embedder {report.Embedder}");
        if (report.Model is { } model) AnsiConsole.MarkupLineInterpolated($"learned model v{model.Version}: {model.Method}, {model.Products} products, trained in {model.TrainingTime.TotalSeconds:F1} s");
        AnsiConsole.Write(table);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(report, ReportJson), ct);
        EvaluationChart.Save(report, chart);
        AnsiConsole.MarkupLineInterpolated($"report {output} · chart {chart} · {report.Seconds:F0} s");
        return 0;
    }

    private static async Task<int> TuneAsync(EvaluationRequest request, IConfiguration configuration, int rounds, string output, CancellationToken ct)
    {
        var (floor, trials) = await WithProgressAsync(async progress =>
        {
            var parts = request.Split.Split(request.Dataset.Purchases);
            var catalog = Evaluator.CatalogAtSplit(request.Dataset, parts);
            await using var service = await EvaluatedService.BuildAsync(configuration, catalog, parts.Train,
                new Progress<(int Done, int Total)>(p => progress.Report(new EvaluationProgress("loading the stores and training", p.Done, p.Total))), ct);
            var cases = new Dictionary<Setting, IReadOnlyList<TestCase>>
            {
                [Setting.NewItems] = TimeSplit.Cases(parts, Setting.NewItems), [Setting.BuyAgain] = TimeSplit.Cases(parts, Setting.BuyAgain),
            };
            progress.Report(new EvaluationProgress("EASE's coverage: the floor", 0, 1));
            var ease = (await Baselines.FitAsync(parts.Train, ct)).Ease(ct);
            var floor = (await Evaluator.ScoreAsync(ease, cases[Setting.NewItems], Setting.NewItems, request.K, catalog.Count, null, ct)).Coverage;
            return (Floor: floor, Trials: await ProfileTuner.TuneAsync(service, cases, request.K, catalog.Count, floor, rounds, progress, ct));
        });
        var table = new Table().AddColumns("change", "setting", $"NDCG@{request.K}", "coverage", "eligible");
        foreach (var trial in trials)
            table.AddRow(Markup.Escape(trial.Change), trial.Setting == Setting.NewItems ? "new items" : "buy again", F(trial.Score.Ndcg), F(trial.Score.Coverage), trial.Eligible ? "yes" : "no");
        AnsiConsole.Write(table);
        var best = ProfileTuner.Best(trials);
        var settings = new
        {
            best.Profile.SimilarityWeight, best.Profile.CoPurchaseWeight, best.Profile.TrendingWeight, best.Profile.LearnedWeight, best.Profile.BuyAgainWeight,
            best.Profile.DiversityLambda,
            ProfileHalfLife = best.Profile.ProfileHalfLife.ToString("c", CultureInfo.InvariantCulture), best.Profile.ProfileInteractions,
        };
        AnsiConsole.MarkupLineInterpolated($"best on the validation period: NDCG@{request.K} {best.Score.Ndcg:F4}, coverage {best.Score.Coverage:F3} (floor: EASE's {floor:F3}); as Recommend:Ranking:");
        Console.WriteLine(JsonSerializer.Serialize(settings, ReportJson));
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(new { coverageFloor = floor, trials, best = settings }, ReportJson), ct);
        return 0;
    }

    /// <summary>A progress bar on a terminal; one line per stage when output is piped (CI logs, tests).</summary>
    private static async Task<T> WithProgressAsync<T>(Func<IProgress<EvaluationProgress>, Task<T>> work)
    {
        if (Console.IsErrorRedirected || Console.IsOutputRedirected)
        {
            string? stage = null;
            return await work(new SynchronousProgress(p =>
            {
                if (p.Stage == stage) return;
                stage = p.Stage;
                Console.Error.WriteLine(p.Stage);
            }));
        }
        T result = default!;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                result = await work(new SynchronousProgress(p =>
                {
                    lock (tasks)
                    {
                        if (!tasks.TryGetValue(p.Stage, out var task)) tasks[p.Stage] = task = context.AddTask(Markup.Escape(p.Stage), maxValue: Math.Max(1, p.Total));
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Done;
                        foreach (var other in tasks.Values.Where(t => t != task)) other.Value = other.MaxValue;
                    }
                }));
                foreach (var task in tasks.Values) task.Value = task.MaxValue;
            });
        return result;
    }

    private sealed class SynchronousProgress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }

    private static IReadOnlyDictionary<string, RankingProfile> ReadProfiles(FileInfo? file)
    {
        if (file is null) return new Dictionary<string, RankingProfile>();
        var named = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(file.FullName)) ?? [];
        return named.ToDictionary(p => p.Key, p =>
        {
            var profile = (p.Value.Deserialize<RankingProfile>() ?? RankingProfile.Default) with { Name = p.Key };
            return profile.Validate() is { } problem ? throw new ArgumentException($"{file.Name}: profile {p.Key}: {problem.Field} {problem.Message}") : profile;
        });
    }

    private static DateTimeOffset Date(string value, string option) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
            ? date
            : throw new ArgumentException($"{option}: not a date: {value}");

    private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
