namespace Recommend.Core.History;

/// <summary>
/// Time-decayed popularity kept as a log-sum-exp key: key = ln Σ wᵢ·exp(tᵢ/τ).
/// The decayed score at any time T is exp(key − T/τ), so ordering by key orders by decayed popularity at
/// every T, the update is order-independent (events may arrive years late), and nothing overflows or underflows
/// because only differences of keys are ever exponentiated.
/// </summary>
public static class Popularity
{
    /// <summary>Decay time constant τ: a purchase's weight halves every τ·ln2 (≈ 9.7 days).</summary>
    public static readonly TimeSpan DecayTime = TimeSpan.FromDays(14);

    /// <summary>Key contribution of one purchase of weight <paramref name="weight"/> at <paramref name="at"/>.</summary>
    public static double Key(DateTimeOffset at, double weight) =>
        at.ToUnixTimeSeconds() / DecayTime.TotalSeconds + Math.Log(Math.Max(weight, 1e-9));

    /// <summary>ln(eᵃ + eᵇ), computed stably.</summary>
    public static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        var max = Math.Max(a, b);
        return max + Math.Log(1 + Math.Exp(-Math.Abs(a - b)));
    }

    /// <summary>
    /// Popularity weight of one event: a purchase counts 1 + ln(quantity) (one wholesaler's 1,000 units must not
    /// swamp 50 customers), an add-to-cart 0.3, a view or click 0.1.
    /// </summary>
    public static double EventWeight(EventType type, int quantity) => type switch
    {
        EventType.Purchase => 1 + Math.Log(Math.Max(quantity, 1)),
        EventType.AddToCart => 0.3,
        _ => 0.1,
    };
}
