namespace Recommend.Evaluation;

/// <summary>Which purchases a setting counts as what the customer went on to buy.</summary>
public enum Setting
{
    /// <summary>Products the customer had never bought before the split.</summary>
    NewItems,
    /// <summary>Everything bought after the split, repeat purchases included (buy again).</summary>
    BuyAgain,
}

/// <summary>A customer to rank for and what they bought in the evaluation period.</summary>
public sealed record TestCase(string UserId, IReadOnlySet<string> Targets);

/// <summary>
/// Train on purchases before <see cref="Start"/>; evaluate on those in [Start, End). Nothing at or after Start is ever
/// given to the stores or the baselines: <see cref="Split"/> is the only place the history is cut.
/// </summary>
public sealed record TimeSplit(DateTimeOffset Start, DateTimeOffset? End)
{
    public sealed record Parts(IReadOnlyList<Purchase> Train, IReadOnlyList<Purchase> Evaluation);

    public Parts Split(IReadOnlyList<Purchase> purchases) => new(
        purchases.Where(p => p.OccurredAt < Start).ToList(),
        purchases.Where(p => p.OccurredAt >= Start && (End is null || p.OccurredAt < End)).ToList());

    /// <summary>Customers with history before the split who bought something counted by <paramref name="setting"/> after it.</summary>
    public static IReadOnlyList<TestCase> Cases(Parts parts, Setting setting)
    {
        var history = parts.Train.GroupBy(p => p.UserId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => p.ProductId).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        return parts.Evaluation
            .Where(p => history.ContainsKey(p.UserId))
            .GroupBy(p => p.UserId, StringComparer.Ordinal)
            .Select(g => new TestCase(g.Key, g.Select(p => p.ProductId)
                .Where(product => setting == Setting.BuyAgain || !history[g.Key].Contains(product))
                .ToHashSet(StringComparer.Ordinal)))
            .Where(c => c.Targets.Count > 0)
            .OrderBy(c => c.UserId, StringComparer.Ordinal)
            .ToList();
    }
}
