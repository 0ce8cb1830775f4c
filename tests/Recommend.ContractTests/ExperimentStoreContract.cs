using Recommend.Core.Experiments;
using Recommend.Core.History;
using Recommend.Core.Ranking;
using Xunit;

namespace Recommend.ContractTests;

/// <summary>
/// The behaviour every <see cref="IExperimentStore"/> must show: drafts that freeze once started, one running experiment
/// per placement even under concurrent starts, exposures that count once, and report sums that follow the attribution
/// rules exactly (checked against a small history worked out by hand). Each test gets a store over its own empty database.
/// </summary>
public abstract class ExperimentStoreContract<TStore> where TStore : IExperimentStore, IHistoryStore, IAsyncDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromHours(24);
    private static readonly TimeSpan PrePeriod = TimeSpan.FromDays(28);

    protected abstract Task<TStore> CreateStoreAsync();

    private static Experiment Draft(string id, string placement = "home", ExperimentMode mode = ExperimentMode.AB) => new()
    {
        Id = id, Name = $"Test {id}", Description = "contract", Placements = [placement, "shared-" + id], Mode = mode, Salt = "s-" + id,
        CreatedAt = T0, AttributionWindow = Window,
        Variants =
        [
            new ExperimentVariant("A", 1, true, RankingProfile.Default with { Name = "ignored" }),
            new ExperimentVariant("B", 2, false, RankingProfile.Default with
            {
                DiversityLambda = 0.5, ProfileHalfLife = TimeSpan.FromDays(7), Sources = CandidateSources.Similar | CandidateSources.Trending,
            }),
        ],
    };

    /// <summary>Profiles are stored without their name: an experiment names its variants' profiles itself.</summary>
    private static Experiment Stored(Experiment e) =>
        e with { Variants = e.Variants.Select(v => v with { Profile = v.Profile with { Name = RankingProfile.DefaultName } }).ToList() };

    [Fact]
    public async Task A_draft_reads_back_with_every_field_and_is_replaced_until_it_starts()
    {
        await using var store = await CreateStoreAsync();
        var draft = Draft("exp-1");

        Assert.Equal(Stored(draft), await store.SaveDraftAsync(draft, None), ExperimentComparer.Instance);
        Assert.Equal(Stored(draft), await store.GetExperimentAsync("exp-1", None), ExperimentComparer.Instance);
        var edited = draft with { Name = "Renamed", Variants = [draft.Variants[0], draft.Variants[1] with { Weight = 5 }] };
        Assert.Equal(5, (await store.SaveDraftAsync(edited, None)).Variants[1].Weight);

        var started = (await store.StartExperimentAsync("exp-1", T0.AddMinutes(1), None)).Experiment!;
        Assert.Equal((ExperimentStatus.Running, T0.AddMinutes(1)), (started.Status, started.StartedAt));
        var refused = await store.SaveDraftAsync(draft, None);
        Assert.Equal((ExperimentStatus.Running, "Renamed", 5.0), (refused.Status, refused.Name, refused.Variants[1].Weight));
        Assert.Null(await store.GetExperimentAsync("missing", None));
    }

    [Fact]
    public async Task One_experiment_runs_per_placement_and_a_stopped_one_stays_stopped()
    {
        await using var store = await CreateStoreAsync();
        await store.SaveDraftAsync(Draft("first"), None);
        await store.SaveDraftAsync(Draft("second"), None);
        await store.SaveDraftAsync(Draft("elsewhere", placement: "pdp"), None);

        Assert.Null((await store.StartExperimentAsync("first", T0, None)).ConflictingExperimentId);
        var clash = await store.StartExperimentAsync("second", T0, None);
        Assert.Equal(("first", ExperimentStatus.Draft), (clash.ConflictingExperimentId, clash.Experiment?.Status));
        Assert.Equal(ExperimentStatus.Running, (await store.StartExperimentAsync("elsewhere", T0, None)).Experiment?.Status);
        Assert.Equal(["elsewhere", "first"], (await store.ListRunningExperimentsAsync(None)).Select(e => e.Id));

        var stopped = await store.StopExperimentAsync("first", T0.AddDays(1), None);
        Assert.Equal((ExperimentStatus.Stopped, T0.AddDays(1)), (stopped?.Status, stopped?.StoppedAt));
        Assert.Equal(ExperimentStatus.Stopped, (await store.StartExperimentAsync("first", T0.AddDays(2), None)).Experiment?.Status);
        Assert.Equal(ExperimentStatus.Running, (await store.StartExperimentAsync("second", T0.AddDays(2), None)).Experiment?.Status);
        Assert.Null((await store.StartExperimentAsync("missing", T0, None)).Experiment);
        Assert.Null(await store.StopExperimentAsync("missing", T0, None));
        Assert.Equal(3, (await store.ListExperimentsAsync(None)).Count);
    }

    [Fact]
    public async Task Concurrent_starts_on_one_placement_let_exactly_one_run()
    {
        await using var store = await CreateStoreAsync();
        for (var i = 0; i < 6; i++) await store.SaveDraftAsync(Draft($"race-{i}"), None);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => store.StartExperimentAsync($"race-{i}", T0, None))));

        Assert.Single(outcomes, o => o.ConflictingExperimentId is null);
        Assert.Single(await store.ListRunningExperimentsAsync(None));
    }

    private static Exposure Shown(string user, string variant, string answer, string product, int position, DateTimeOffset at, string? team = null) =>
        new("exp-r", variant, user, answer, product, position, team ?? variant, at);

    private static UserEvent Event(string id, EventType type, string user, string product, DateTimeOffset at, string? answer = null, double price = 5, int quantity = 1) =>
        new(id, type, user, product, quantity, price, at, answer, null);

    /// <summary>
    /// u1 (A) is shown a1 = [p1, p2], clicks p1 and buys two of it with a1's id, and buys p9 (never shown) — 1 click,
    /// 1 purchase, revenue 10; two weeks earlier u1 bought for 8 (CUPED covariate). u2 (B) is shown b1 = [p3], clicks
    /// p3 an hour later without an id (inside the window), and again 30 h later (outside it). u3 (B) is shown b2 = [p4];
    /// their click on p4 came before the exposure and a click quoting u2's answer is not theirs. Views never count.
    /// </summary>
    private static async Task SeedAsync(TStore store)
    {
        Exposure[] exposures =
        [
            Shown("u1", "A", "a1", "p1", 0, T0), Shown("u1", "A", "a1", "p2", 1, T0),
            Shown("u2", "B", "b1", "p3", 0, T0), Shown("u3", "B", "b2", "p4", 0, T0.AddMinutes(5)),
        ];
        await store.RecordExposuresAsync(exposures, None);
        await store.RecordExposuresAsync(exposures, None); // a batch replayed after a crash counts once
        await store.RecordEventsAsync(
        [
            Event("e1", EventType.Click, "u1", "p1", T0.AddMinutes(1), "a1"),
            Event("e2", EventType.Purchase, "u1", "p1", T0.AddMinutes(2), "a1", price: 5, quantity: 2),
            Event("e3", EventType.Purchase, "u1", "p9", T0.AddMinutes(3)),
            Event("e4", EventType.Purchase, "u1", "p7", T0.AddDays(-14), price: 8),
            Event("e5", EventType.View, "u1", "p1", T0.AddMinutes(1), "a1"),
            Event("e6", EventType.Click, "u2", "p3", T0.AddHours(1)),
            Event("e7", EventType.Click, "u2", "p3", T0.AddHours(30)),
            Event("e8", EventType.Click, "u3", "p4", T0.AddMinutes(-60)),
            Event("e9", EventType.Click, "u3", "p3", T0.AddMinutes(10), "b1"),
        ], None);
    }

    [Fact]
    public async Task Report_sums_follow_the_attribution_rules_and_count_replayed_exposures_once()
    {
        await using var store = await CreateStoreAsync();
        await store.SaveDraftAsync(Draft("exp-r"), None);
        await SeedAsync(store);

        var totals = await store.GetTotalsAsync(new TotalsQuery("exp-r", T0, T0.AddDays(3), Window, PrePeriod), None);

        var a = totals.Variants.Single(v => v.Variant == "A");
        var b = totals.Variants.Single(v => v.Variant == "B");
        Assert.Equal((1L, 1L, 2L, 1L, 0L, 1L, 10.0), (a.UsersAssigned, a.UsersExposed, a.Exposures, a.Clicks, a.AddToCarts, a.Purchases, a.Revenue));
        Assert.Equal((2L, 2L, 2L, 1L, 0L, 0.0), (b.UsersAssigned, b.UsersExposed, b.Exposures, b.Clicks, b.Purchases, b.Revenue));
        // Per-user sums: A has one user with (clicks 1, exposures 2); B users (1, 1) and (0, 1).
        Assert.Equal(new(1, 1, 2, 1, 4, 2), a.ClicksPerExposure);
        Assert.Equal(new(2, 1, 2, 1, 2, 1), b.ClicksPerExposure);
        Assert.Equal(new(1, 1, 1), a.Converted);
        Assert.Equal(new(1, 10, 100), a.RevenuePerUser);
        Assert.Equal(new(1, 8, 64, 10, 100, 80), a.RevenueWithPrePeriod);
        Assert.Equal(new(1, 1, 1, 1, 1, 1), a.ConvertedWithPrePurchases);
        Assert.Equal(new(2, 0, 0, 0, 0, 0), b.RevenueWithPrePeriod);
        Assert.Null(totals.Interleaving);

        var day = DateOnly.FromDateTime(T0.UtcDateTime);
        Assert.Contains(new DailyTotals(day, "A", 2, 1, 1, 10), totals.Daily);
        Assert.Contains(new DailyTotals(day, "B", 2, 1, 0, 0), totals.Daily);
    }

    [Fact]
    public async Task A_date_range_keeps_exposures_and_events_outside_it_out()
    {
        await using var store = await CreateStoreAsync();
        await store.SaveDraftAsync(Draft("exp-r"), None);
        await SeedAsync(store);

        var early = await store.GetTotalsAsync(new TotalsQuery("exp-r", T0, T0.AddMinutes(2), Window, PrePeriod), None);

        var a = early.Variants.Single(v => v.Variant == "A");
        Assert.Equal((1L, 0L), (a.Clicks, a.Purchases)); // the purchase at +2 min falls outside [T0, T0 + 2 min)
        Assert.Equal((1L, 1L), (early.Variants.Single(v => v.Variant == "B").UsersExposed, early.Variants.Single(v => v.Variant == "B").Exposures));
        Assert.Empty((await store.GetTotalsAsync(new TotalsQuery("exp-r", T0.AddDays(5), T0.AddDays(6), Window, PrePeriod), None)).Variants);
    }

    [Fact]
    public async Task Interleaving_credits_each_event_to_the_team_that_placed_the_item()
    {
        await using var store = await CreateStoreAsync();
        await store.SaveDraftAsync(Draft("exp-r", mode: ExperimentMode.Interleaving), None);
        await store.RecordExposuresAsync(
        [
            Shown("u1", "interleaved", "i1", "p1", 0, T0, team: "A"), Shown("u1", "interleaved", "i1", "p2", 1, T0, team: "B"),
            Shown("u2", "interleaved", "i2", "p1", 0, T0, team: "B"), Shown("u2", "interleaved", "i2", "p2", 1, T0, team: "A"),
            Shown("u3", "interleaved", "i3", "p5", 0, T0, team: "A"),
        ], None);
        await store.RecordEventsAsync(
        [
            Event("c1", EventType.Click, "u1", "p2", T0.AddMinutes(1), "i1"),
            Event("c2", EventType.Purchase, "u1", "p2", T0.AddMinutes(2), "i1"),
            Event("c3", EventType.Click, "u2", "p1", T0.AddMinutes(1)),
            Event("c4", EventType.Click, "u3", "p5", T0.AddMinutes(1), "i3"),
            Event("c5", EventType.Click, "u3", "p6", T0.AddMinutes(1), "i3"), // quotes the answer, but p6 was not in it: no team
        ], None);

        var totals = await store.GetTotalsAsync(new TotalsQuery("exp-r", T0, T0.AddDays(1), Window, PrePeriod), None);

        Assert.Equal(new InterleavingTotals("A", "B", ClicksA: 1, ClicksB: 2, PurchasesA: 0, PurchasesB: 1, UsersPreferringA: 1, UsersPreferringB: 2, UsersTied: 0),
            totals.Interleaving);
        var all = Assert.Single(totals.Variants);
        Assert.Equal(("interleaved", 3L, 4L), (all.Variant, all.UsersExposed, all.Clicks));
    }

    /// <summary>Experiments compare by content: their lists are compared element by element.</summary>
    private sealed class ExperimentComparer : IEqualityComparer<Experiment?>
    {
        public static readonly ExperimentComparer Instance = new();

        public bool Equals(Experiment? x, Experiment? y) =>
            x is null || y is null ? x is null && y is null
            : x.SameDesign(y) && x with { Placements = [], Variants = [] } == y with { Placements = [], Variants = [] };

        public int GetHashCode(Experiment? obj) => obj?.Id.GetHashCode(StringComparison.Ordinal) ?? 0;
    }
}
