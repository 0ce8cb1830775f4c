using System.Globalization;
using Recommend.Core.Experiments;
using Recommend.Core.Experiments.Statistics;

namespace Recommend.Sql;

/// <summary>One variant's sums as the report queries of both stores return them (column aliases = property names).</summary>
public sealed class VariantSumsRow
{
    public string Variant { get; set; } = "";
    public long UsersAssigned { get; set; }
    public long Users { get; set; }
    public long Exposures { get; set; }
    public long Clicks { get; set; }
    public long Carts { get; set; }
    public long Purchases { get; set; }
    public double Revenue { get; set; }
    public double ClicksSquared { get; set; }
    public double ExposuresSquared { get; set; }
    public double ClicksTimesExposures { get; set; }
    public long Converted { get; set; }
    public double RevenueSquared { get; set; }
    public double PreRevenue { get; set; }
    public double PreRevenueSquared { get; set; }
    public double PreRevenueTimesRevenue { get; set; }
    public double PrePurchases { get; set; }
    public double PrePurchasesSquared { get; set; }
    public double PrePurchasesTimesConverted { get; set; }

    public VariantTotals ToTotals() => new(
        Variant, UsersAssigned, Exposures, Clicks, Carts, Purchases, Revenue,
        new RatioSums(Users, Clicks, Exposures, ClicksSquared, ExposuresSquared, ClicksTimesExposures),
        // converted is 0/1 per user: its squares sum to itself.
        new MetricSums(Users, Converted, Converted),
        new MetricSums(Users, Revenue, RevenueSquared),
        new CovariateSums(Users, PreRevenue, PreRevenueSquared, Revenue, RevenueSquared, PreRevenueTimesRevenue),
        new CovariateSums(Users, PrePurchases, PrePurchasesSquared, Converted, Converted, PrePurchasesTimesConverted));
}

public sealed class DailyRow
{
    public string Day { get; set; } = "";
    public string Variant { get; set; } = "";
    public long Exposures { get; set; }
    public long Clicks { get; set; }
    public long Purchases { get; set; }
    public double Revenue { get; set; }

    public DailyTotals ToTotals() =>
        new(DateOnly.ParseExact(Day, "yyyy-MM-dd", CultureInfo.InvariantCulture), Variant, Exposures, Clicks, Purchases, Revenue);
}

public sealed class TeamRow
{
    public long ClicksA { get; set; }
    public long ClicksB { get; set; }
    public long PurchasesA { get; set; }
    public long PurchasesB { get; set; }
    public long PreferA { get; set; }
    public long PreferB { get; set; }
    public long Tied { get; set; }

    public InterleavingTotals ToTotals(string teamA, string teamB) =>
        new(teamA, teamB, ClicksA, ClicksB, PurchasesA, PurchasesB, PreferA, PreferB, Tied);
}
