using Recommend.Core.History;

namespace Recommend.Core.Tests.History;

public class PopularityTests
{
    private static readonly DateTimeOffset T0 = new(2011, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Log_add_exp_is_ln_of_the_sum_of_exponentials_without_overflowing()
    {
        Assert.Equal(Math.Log(Math.Exp(1) + Math.Exp(2)), Popularity.LogAddExp(1, 2), 12);
        Assert.Equal(1000 + Math.Log(2), Popularity.LogAddExp(1000, 1000), 9); // e^1000 alone would overflow
        Assert.Equal(3.5, Popularity.LogAddExp(double.NegativeInfinity, 3.5));
        Assert.Equal(3.5, Popularity.LogAddExp(3.5, double.NegativeInfinity));
    }

    [Fact]
    public void Keys_add_up_the_same_in_any_order_so_late_events_change_nothing()
    {
        var events = new[] { (T0, 1.0), (T0.AddDays(-400), 3.0), (T0.AddDays(2), 0.1), (T0.AddDays(-3), 1.7) };

        var forward = events.Aggregate(double.NegativeInfinity, (key, e) => Popularity.LogAddExp(key, Popularity.Key(e.Item1, e.Item2)));
        var backward = events.Reverse().Aggregate(double.NegativeInfinity, (key, e) => Popularity.LogAddExp(key, Popularity.Key(e.Item1, e.Item2)));

        Assert.Equal(forward, backward, 9);
    }

    [Fact]
    public void A_purchase_decays_to_half_after_tau_ln_2()
    {
        var halfLife = Popularity.DecayTime * Math.Log(2);
        var now = Popularity.Key(T0, 1);
        var older = Popularity.Key(T0 - halfLife, 1);

        Assert.Equal(0.5, Math.Exp(older - now), 6);
    }

    [Fact]
    public void Purchases_outweigh_carts_and_views_and_large_quantities_are_damped()
    {
        Assert.Equal(1.0, Popularity.EventWeight(EventType.Purchase, 1));
        Assert.Equal(1 + Math.Log(1000), Popularity.EventWeight(EventType.Purchase, 1000), 12);
        Assert.Equal(1.0, Popularity.EventWeight(EventType.Purchase, 0)); // a zero or negative quantity counts as one unit
        Assert.Equal(0.3, Popularity.EventWeight(EventType.AddToCart, 5));
        Assert.Equal(0.1, Popularity.EventWeight(EventType.View, 1));
        Assert.Equal(0.1, Popularity.EventWeight(EventType.Click, 1));
    }
}
