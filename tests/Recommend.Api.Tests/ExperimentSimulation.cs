using Google.Protobuf.WellKnownTypes;
using Recommend.Contracts.V1;

namespace Recommend.Api.Tests;

/// <summary>
/// A simulated shop population for experiment tests, driven only through the public API: users ask for similar products
/// on a placement, then click and buy with probabilities that depend on what the experiment showed them, and send their
/// events back with the answer's recommendation id.
/// </summary>
internal sealed class ExperimentSimulation(RunningHost host)
{
    public const int Products = 40;

    /// <summary>Per shown item: the probability that the user clicks it, given the variant (A/B) or team (interleaving) it came from.</summary>
    public delegate double ClickChance(string variant);

    public async Task SeedCatalogAsync()
    {
        string[] things = ["mug", "teapot", "lantern", "cushion", "candle", "vase", "bowl", "clock"];
        await host.UpsertProductsAsync(Enumerable.Range(0, Products)
            .Select(i => RunningHost.Product($"p{i:D3}", $"{things[i % things.Length]} number {i} in colour {i % 5}", 2 + i % 7)).ToArray());
    }

    public static Experiment Design(string id, string placement, string mode = "ab", double weightB = 1, RankingProfile? profileB = null)
    {
        var experiment = new Experiment
        {
            ExperimentId = id, Name = $"Simulated {id}", Placements = { placement }, Mode = mode,
            AttributionWindow = Duration.FromTimeSpan(TimeSpan.FromHours(24)),
        };
        experiment.Variants.Add(new Variant { Name = "A", Weight = 1, Control = true, Profile = new RankingProfile() });
        experiment.Variants.Add(new Variant { Name = "B", Weight = weightB, Profile = profileB ?? new RankingProfile { DiversityLambda = 0.4 } });
        return experiment;
    }

    public async Task<Experiment> StartAsync(Experiment design)
    {
        var created = await host.Experiments.CreateExperimentAsync(new CreateExperimentRequest { Experiment = design });
        return await host.Experiments.StartExperimentAsync(new StartExperimentRequest { ExperimentId = created.ExperimentId });
    }

    /// <summary>
    /// Users <paramref name="first"/> … first + count − 1 each get one answer on <paramref name="placement"/> (similar
    /// products, or with <paramref name="personalised"/> their recommendations) and react to it. Returns how many users
    /// were shown something. With <paramref name="mixedActivity"/> users differ as real shoppers do: a quarter are keen
    /// (3× the base chances), the rest browse (0.3×) — the between-user variance that an A/B test must average out and
    /// an interleaved answer, compared within each user, does not see.
    /// </summary>
    public async Task<int> RunUsersAsync(string prefix, int first, int count, string placement, ClickChance click, double buyAfterClick,
        bool personalised = false, bool mixedActivity = false)
    {
        var served = 0;
        await Parallel.ForEachAsync(Enumerable.Range(first, count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            var user = $"{prefix}-{i}";
            // A stable seed per user (string hashes differ between processes), so a run can be replayed.
            var random = new Random(prefix.Aggregate(i, (seed, c) => unchecked(seed * 31 + c)));
            var answer = personalised
                ? await host.Recommendations.RecommendAsync(new RecommendRequest { UserId = user, Placement = placement, Limit = 6 }, cancellationToken: ct)
                : await host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest
                {
                    ProductId = $"p{random.Next(Products):D3}", UserId = user, Placement = placement, Limit = 6,
                }, cancellationToken: ct);
            if (answer.Items.Count == 0) return;
            Interlocked.Increment(ref served);
            var activity = !mixedActivity ? 1.0 : random.NextDouble() < 0.25 ? 3.0 : 0.3;
            var events = new RecordEventsRequest();
            foreach (var item in answer.Items)
            {
                var team = item.Variant.Length > 0 ? item.Variant : answer.Variant;
                if (random.NextDouble() >= Math.Min(0.95, click(team) * activity)) continue;
                events.Events.Add(new Event
                {
                    EventId = $"{user}-click-{item.ProductId}", Type = EventType.Click, UserId = user, ProductId = item.ProductId,
                    RecommendationId = answer.RecommendationId,
                });
                if (random.NextDouble() < buyAfterClick)
                {
                    events.Events.Add(new Event
                    {
                        EventId = $"{user}-buy-{item.ProductId}", Type = EventType.Purchase, UserId = user, ProductId = item.ProductId,
                        RecommendationId = answer.RecommendationId, Quantity = 1 + random.Next(3), Price = item.Price, OrderId = $"{user}-order",
                    });
                }
            }
            if (events.Events.Count > 0) await host.Events.RecordEventsAsync(events, cancellationToken: ct);
        });
        return served;
    }

    /// <summary>The report once every served user's exposures are flushed (they are written off the request path).</summary>
    /// <summary>Gives users prefix-first … a past purchase each (their profile has an anchor), in one batch per 500.</summary>
    public async Task SeedHistoryAsync(string prefix, IEnumerable<int> users)
    {
        var at = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-3));
        foreach (var chunk in users.Chunk(250))
        {
            var request = new RecordEventsRequest();
            foreach (var i in chunk)
            {
                var user = $"{prefix}-{i}";
                foreach (var product in new[] { i % Products, (i * 7 + 3) % Products })
                {
                    request.Events.Add(new Event
                    {
                        EventId = $"{user}-past-{product}", Type = EventType.Purchase, UserId = user, ProductId = $"p{product:D3}",
                        Quantity = 1, OrderId = $"{user}-past", OccurredAt = at,
                    });
                }
            }
            await host.Events.RecordEventsAsync(request);
        }
    }

    public async Task<ExperimentReport> ReportAsync(string experimentId, long exposedUsers)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var report = await host.Experiments.GetExperimentReportAsync(new GetExperimentReportRequest { ExperimentId = experimentId },
                cancellationToken: deadline.Token);
            if (report.Variants.Sum(v => v.UsersExposed) >= exposedUsers) return report;
            await Task.Delay(100, deadline.Token);
        }
    }

    public static MetricResult Metric(ExperimentReport report, string variant, string metric) =>
        report.Variants.Single(v => v.Name == variant).Metrics.Single(m => m.Metric == metric);
}
