namespace Recommend.Core.Experiments.Statistics;

/// <summary>
/// The special functions and distributions the experiment statistics rest on: log-gamma and log-beta, the regularized
/// incomplete gamma and beta functions, and from them the normal, Student t, chi-square and binomial distributions.
/// </summary>
/// <remarks>
/// Written from the textbook formulas (Stirling's series with Bernoulli-number coefficients; the power series and
/// Legendre continued fraction of the incomplete gamma; the continued fraction of the incomplete beta, evaluated with the
/// modified Lentz method). Every tail is computed directly rather than as 1 − the other tail, so small p-values keep their
/// relative accuracy; the prefactors x^a·e^−x/Γ(a) and x^a·(1−x)^b/B(a,b) are formed in a Stirling-corrected form for
/// large parameters, so they do not lose digits to cancellation at large degrees of freedom, and the continued fraction
/// is written in y = 1 − x where x is near 1. Against 90-digit values on a grid (a, b up to 5·10⁸, ν up to 10¹⁶, binomial
/// n up to 10⁸, tails down to 1e-250) the worst relative error was 2e-12, most below 2e-13; the tests pin known values.
/// </remarks>
internal static class Distributions
{
    /// <summary>Φ⁻¹(0.975): the two-sided 95 % normal quantile.</summary>
    public const double Z975 = 1.959963984540054;

    private const double HalfLogTwoPi = 0.91893853320467274178; // ½·ln(2π)
    private const double SqrtTwoPi = 2.50662827463100050242;
    private const double Epsilon = 1e-15;
    private const double Tiny = 1e-300;
    private const double StirlingThreshold = 10.0;

    /// <summary>
    /// Degrees of freedom past which Student's t is taken as the normal distribution: the relative difference in the tail is
    /// about t⁴/(4ν), under 1e-9 for |t| &lt; 60 (p-values down to 1e-780, far below what a double holds).
    /// </summary>
    private const double NormalDegreesOfFreedom = 1e15;

    // ---------------------------------------------------------------- elementary helpers

    /// <summary>ln(1 + x), accurate for small |x| (the rounding of 1 + x is corrected by x / (u − 1)).</summary>
    public static double Log1P(double x)
    {
        var u = 1.0 + x;
        if (u == 1.0)
        {
            return x;
        }

        if (double.IsInfinity(u) || u <= 0.0)
        {
            return Math.Log(u);
        }

        return Math.Log(u) * (x / (u - 1.0));
    }

    // ---------------------------------------------------------------- gamma and beta functions

    /// <summary>ln Γ(x) for x &gt; 0 (Stirling's series from x ≥ 10, the recurrence Γ(x+1) = xΓ(x) below).</summary>
    public static double LogGamma(double x)
    {
        if (double.IsNaN(x) || x < 0.0)
        {
            return double.NaN;
        }

        if (x == 0.0 || double.IsPositiveInfinity(x))
        {
            return double.PositiveInfinity;
        }

        if (x >= StirlingThreshold)
        {
            return (x - 0.5) * Math.Log(x) - x + HalfLogTwoPi + StirlingCorrection(x);
        }

        // ln Γ(x) = ln Γ(x + k) − ln(x (x+1) … (x+k−1)), with x + k ≥ 10; the product stays below 10!.
        var product = 1.0;
        while (x < StirlingThreshold)
        {
            product *= x;
            x += 1.0;
        }

        return (x - 0.5) * Math.Log(x) - x + HalfLogTwoPi + StirlingCorrection(x) - Math.Log(product);
    }

    /// <summary>
    /// δ(x) = ln Γ(x) − [(x − ½) ln x − x + ½ ln 2π] for x ≥ 10: Σ B₂ₖ / (2k(2k−1) x^(2k−1)), eight terms (the next is
    /// below 2e-18 at x = 10).
    /// </summary>
    private static double StirlingCorrection(double x)
    {
        var inverse = 1.0 / x;
        var inverseSquared = inverse * inverse;
        var series = 1.0 / 12.0
            + inverseSquared * (-1.0 / 360.0
            + inverseSquared * (1.0 / 1260.0
            + inverseSquared * (-1.0 / 1680.0
            + inverseSquared * (1.0 / 1188.0
            + inverseSquared * (-691.0 / 360360.0
            + inverseSquared * (1.0 / 156.0
            + inverseSquared * (-3617.0 / 122400.0)))))));
        return series * inverse;
    }

    /// <summary>ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), without cancellation when a or b is large.</summary>
    public static double LogBeta(double a, double b)
    {
        if (a > b)
        {
            (a, b) = (b, a);
        }

        var sum = a + b;
        if (a >= StirlingThreshold)
        {
            // Stirling for all three: ½ ln 2π − ½ ln(a+b) + (a−½) ln(a/(a+b)) + (b−½) ln(b/(a+b)) + δ(a) + δ(b) − δ(a+b).
            return HalfLogTwoPi - 0.5 * Math.Log(sum) + (a - 0.5) * Math.Log(a / sum) + (b - 0.5) * Log1P(-a / sum)
                + StirlingCorrection(a) + StirlingCorrection(b) - StirlingCorrection(sum);
        }

        if (b >= StirlingThreshold)
        {
            // ln Γ(b) − ln Γ(a+b) = −(b−½) ln(1 + a/b) − a ln(a+b) + a + δ(b) − δ(a+b).
            return LogGamma(a) - (b - 0.5) * Log1P(a / b) - a * Math.Log(sum) + a
                + StirlingCorrection(b) - StirlingCorrection(sum);
        }

        return LogGamma(a) + LogGamma(b) - LogGamma(sum);
    }

    /// <summary>
    /// The regularized incomplete gamma functions P(a, x) = γ(a, x)/Γ(a) and Q(a, x) = 1 − P(a, x), each computed
    /// directly where it is the smaller (series for x &lt; a + 1, continued fraction otherwise).
    /// </summary>
    public static (double Lower, double Upper) RegularizedGamma(double a, double x)
    {
        if (double.IsNaN(a) || double.IsNaN(x) || a <= 0.0)
        {
            return (double.NaN, double.NaN);
        }

        if (x <= 0.0)
        {
            return (0.0, 1.0);
        }

        if (double.IsPositiveInfinity(x))
        {
            return (1.0, 0.0);
        }

        var logFront = LogGammaFront(a, x);
        if (x < a + 1.0)
        {
            // P(a, x) = x^a e^−x / Γ(a+1) · Σₙ xⁿ / ((a+1)…(a+n)).
            var term = 1.0 / a;
            var sum = term;
            var limit = 1000 + (int)Math.Min(1e7, 20.0 * Math.Sqrt(a));
            for (var n = 1; n <= limit; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * Epsilon)
                {
                    break;
                }
            }

            var lower = Math.Min(1.0, Math.Exp(logFront) * sum);
            return (lower, 1.0 - lower);
        }

        // Q(a, x) = x^a e^−x / Γ(a) · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))), modified Lentz.
        var b = x + 1.0 - a;
        var c = 1.0 / Tiny;
        var d = 1.0 / b;
        var h = d;
        var maxIterations = 1000 + (int)Math.Min(1e7, 20.0 * Math.Sqrt(a));
        for (var i = 1; i <= maxIterations; i++)
        {
            var an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            if (Math.Abs(d) < Tiny)
            {
                d = Tiny;
            }

            c = b + an / c;
            if (Math.Abs(c) < Tiny)
            {
                c = Tiny;
            }

            d = 1.0 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1.0) < Epsilon)
            {
                break;
            }
        }

        var upper = Math.Min(1.0, Math.Exp(logFront) * h);
        return (1.0 - upper, upper);
    }

    /// <summary>ln(x^a e^−x / Γ(a)); for large a as a·(ln(1+u) − u) + ½ ln(a/2π) − δ(a), u = (x − a)/a.</summary>
    private static double LogGammaFront(double a, double x)
    {
        if (a >= StirlingThreshold)
        {
            var u = (x - a) / a;
            var logRatio = Math.Abs(u) < 0.5 ? Log1P(u) : Math.Log(x / a); // ln(x/a), accurate both near and far from 1
            return a * (logRatio - u) + 0.5 * Math.Log(a / (2.0 * Math.PI)) - StirlingCorrection(a);
        }

        return a * Math.Log(x) - x - LogGamma(a);
    }

    /// <summary>
    /// The regularized incomplete beta function I_x(a, b) and its complement 1 − I_x(a, b) = I_y(b, a), with y = 1 − x
    /// passed in separately so that it keeps its accuracy when x is close to 1. Each is computed directly where it is the
    /// smaller (the continued fraction converges fast for x &lt; (a+1)/(a+b+2), the symmetry is used otherwise).
    /// </summary>
    public static (double Lower, double Upper) RegularizedBeta(double a, double b, double x, double y)
    {
        if (double.IsNaN(a) || double.IsNaN(b) || double.IsNaN(x) || double.IsNaN(y) || a <= 0.0 || b <= 0.0)
        {
            return (double.NaN, double.NaN);
        }

        if (x <= 0.0)
        {
            return (0.0, 1.0);
        }

        if (y <= 0.0)
        {
            return (1.0, 0.0);
        }

        if (x < (a + 1.0) / (a + b + 2.0))
        {
            var lower = Math.Min(1.0, Math.Exp(LogBetaFront(a, b, x, y)) * BetaContinuedFraction(a, b, x, y) / a);
            return (lower, 1.0 - lower);
        }

        var upper = Math.Min(1.0, Math.Exp(LogBetaFront(b, a, y, x)) * BetaContinuedFraction(b, a, y, x) / b);
        return (1.0 - upper, upper);
    }

    /// <summary>
    /// ln(x^a y^b / B(a, b)). For a, b ≥ 10 as a·ln(1 + d/a) + b·ln(1 − d/b) + ½ ln(ab/(2π(a+b))) − δ(a) − δ(b) + δ(a+b)
    /// with d = xb − ya, which avoids subtracting numbers of size a·ln x from each other.
    /// </summary>
    private static double LogBetaFront(double a, double b, double x, double y)
    {
        if (a >= StirlingThreshold && b >= StirlingThreshold)
        {
            var sum = a + b;
            var d = x * b - y * a;
            // a·ln(x(a+b)/a) = a·ln(1 + d/a): through ln(1 + ·) near the centre, directly in the tails, where 1 + d/a is small.
            var logA = Math.Abs(d / a) < 0.5 ? Log1P(d / a) : Math.Log(x * sum / a);
            var logB = Math.Abs(d / b) < 0.5 ? Log1P(-d / b) : Math.Log(y * sum / b);
            return a * logA + b * logB + 0.5 * Math.Log(a / sum * b / (2.0 * Math.PI))
                - StirlingCorrection(a) - StirlingCorrection(b) + StirlingCorrection(sum);
        }

        // ln x through ln(1 − y) when x is near 1: x itself carries an absolute rounding error that a large a would magnify.
        var logX = x > 0.5 ? Log1P(-y) : Math.Log(x);
        var logY = y > 0.5 ? Log1P(-x) : Math.Log(y);
        return a * logX + b * logY - LogBeta(a, b);
    }

    /// <summary>
    /// The continued fraction h = 1/(1+ d₁/(1+ d₂/(1+ …))) with I_x(a, b) = x^a y^b/(a·B(a, b))·h, where
    /// d₂ₘ₊₁ = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)) and d₂ₘ = m(b−m)x / ((a+2m−1)(a+2m)), evaluated in its even contraction
    /// 1/g, g = β₀ + α₁/(β₁ + α₂/(β₂ + …)) with βₘ = 1 + d₂ₘ + d₂ₘ₊₁ and αₘ = −d₂ₘ₋₁d₂ₘ, by the modified Lentz method.
    /// </summary>
    /// <remarks>
    /// Near x = 1 with a large (Student's t at many degrees of freedom) every βₘ is a small difference of numbers near 1;
    /// written with y = 1 − x it is, exactly, βₘ = [y(P−1)(P+1) + x(a(2m+1−b) + 2m² + b − 1)] / ((P−1)(P+1)), P = a + 2m
    /// (β₀ = [y(a+1) + x(1−b)]/(a+1)), which has no such cancellation when b ≤ 1.
    /// </remarks>
    private static double BetaContinuedFraction(double a, double b, double x, double y)
    {
        var g = (y * (a + 1.0) + x * (1.0 - b)) / (a + 1.0);
        if (Math.Abs(g) < Tiny)
        {
            g = Tiny;
        }

        var c = g;
        var d = 0.0;
        var x2 = x * x;
        var maxIterations = 1000 + (int)Math.Min(1e7, 20.0 * Math.Sqrt(Math.Max(a, b)));
        for (var m = 1; m <= maxIterations; m++)
        {
            var p = a + 2.0 * m;
            var alpha = (a + m - 1.0) * (a + b + m - 1.0) * (m * (b - m)) * x2 / ((p - 2.0) * (p - 1.0) * (p - 1.0) * p);
            var beta = (y * (p - 1.0) * (p + 1.0) + x * (a * (2.0 * m + 1.0 - b) + 2.0 * m * m + b - 1.0)) / ((p - 1.0) * (p + 1.0));

            d = beta + alpha * d;
            if (Math.Abs(d) < Tiny)
            {
                d = Tiny;
            }

            c = beta + alpha / c;
            if (Math.Abs(c) < Tiny)
            {
                c = Tiny;
            }

            d = 1.0 / d;
            var delta = c * d;
            g *= delta;
            if (Math.Abs(delta - 1.0) < Epsilon)
            {
                break;
            }
        }

        return 1.0 / g;
    }

    // ---------------------------------------------------------------- normal

    /// <summary>The standard normal density φ(x).</summary>
    public static double NormalPdf(double x) => Math.Exp(-0.5 * x * x) / SqrtTwoPi;

    /// <summary>Φ(x) = P(Z ≤ x), through erfc(z) = Q(½, z²): Φ(x) = ½ Q(½, x²/2) for x &lt; 0, ½(1 + P(½, x²/2)) otherwise.</summary>
    public static double NormalCdf(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        var (lower, upper) = RegularizedGamma(0.5, 0.5 * x * x);
        return x < 0.0 ? 0.5 * upper : 0.5 * (1.0 + lower);
    }

    /// <summary>P(Z &gt; x) = Φ(−x), accurate in the far upper tail.</summary>
    public static double NormalSurvival(double x) => NormalCdf(-x);

    /// <summary>
    /// Φ⁻¹(p). Acklam's rational approximation (relative error ≈ 1e-9) as the start, then Halley steps on the accurate Φ
    /// above, so the result is good to a few ulps. Works on the smaller tail (1 − p is exact for p ≥ ½).
    /// </summary>
    public static double NormalQuantile(double p)
    {
        if (double.IsNaN(p) || p < 0.0 || p > 1.0)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "A probability must lie in [0, 1].");
        }

        if (p == 0.0)
        {
            return double.NegativeInfinity;
        }

        if (p == 1.0)
        {
            return double.PositiveInfinity;
        }

        return p > 0.5 ? -LowerTailQuantile(1.0 - p) : LowerTailQuantile(p);
    }

    /// <summary>The x ≤ 0 with Φ(x) = q, for 0 &lt; q ≤ ½.</summary>
    private static double LowerTailQuantile(double q)
    {
        double x;
        if (q < 0.02425)
        {
            var r = Math.Sqrt(-2.0 * Math.Log(q));
            x = (((((-7.784894002430293e-03 * r - 3.223964580411365e-01) * r - 2.400758277161838e+00) * r
                - 2.549732539343734e+00) * r + 4.374664141464968e+00) * r + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * r + 3.224671290700398e-01) * r + 2.445134137142996e+00) * r
                + 3.754408661907416e+00) * r + 1.0);
        }
        else
        {
            var s = q - 0.5;
            var r = s * s;
            x = (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
                + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * s
                / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
                + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1.0);
        }

        // Halley: with u = (Φ(x) − q)/φ(x), x ← x − u / (1 + x·u/2).
        for (var i = 0; i < 4; i++)
        {
            var density = NormalPdf(x);
            if (density <= 0.0)
            {
                break;
            }

            var u = (NormalCdf(x) - q) / density;
            var step = u / (1.0 + 0.5 * x * u);
            if (!double.IsFinite(step))
            {
                break;
            }

            x -= step;
            if (Math.Abs(step) <= 1e-15 * Math.Abs(x))
            {
                break;
            }
        }

        return x;
    }

    // ---------------------------------------------------------------- Student t

    /// <summary>P(|T| ≥ |t|) for Student's t with <paramref name="degreesOfFreedom"/> (need not be an integer) = I_{ν/(ν+t²)}(ν/2, ½).</summary>
    public static double StudentTTwoSided(double t, double degreesOfFreedom)
    {
        if (double.IsNaN(t) || double.IsNaN(degreesOfFreedom) || degreesOfFreedom <= 0.0)
        {
            return double.NaN;
        }

        if (degreesOfFreedom > NormalDegreesOfFreedom)
        {
            return 2.0 * NormalCdf(-Math.Abs(t));
        }

        if (double.IsInfinity(t))
        {
            return 0.0;
        }

        var tSquared = t * t;
        var x = degreesOfFreedom / (degreesOfFreedom + tSquared);
        var y = double.IsInfinity(tSquared) ? 1.0 : tSquared / (degreesOfFreedom + tSquared);
        return RegularizedBeta(0.5 * degreesOfFreedom, 0.5, x, y).Lower;
    }

    /// <summary>P(T ≤ t) for Student's t.</summary>
    public static double StudentTCdf(double t, double degreesOfFreedom)
    {
        var twoSided = StudentTTwoSided(t, degreesOfFreedom);
        return t < 0.0 ? 0.5 * twoSided : 1.0 - 0.5 * twoSided;
    }

    /// <summary>The density of Student's t: exp(−ln B(ν/2, ½) − ½ ln ν − (ν+1)/2 · ln(1 + t²/ν)).</summary>
    public static double StudentTPdf(double t, double degreesOfFreedom)
    {
        if (degreesOfFreedom > NormalDegreesOfFreedom)
        {
            return NormalPdf(t);
        }

        return Math.Exp(-LogBeta(0.5 * degreesOfFreedom, 0.5) - 0.5 * Math.Log(degreesOfFreedom)
            - 0.5 * (degreesOfFreedom + 1.0) * Log1P(t * t / degreesOfFreedom));
    }

    /// <summary>
    /// The p-quantile of Student's t: Cornish–Fisher expansion (Abramowitz &amp; Stegun 26.7.5) as the start, then
    /// Halley steps on the accurate upper tail, kept inside a bracket (bisection if a step leaves it).
    /// </summary>
    public static double StudentTQuantile(double p, double degreesOfFreedom)
    {
        if (double.IsNaN(p) || p < 0.0 || p > 1.0)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "A probability must lie in [0, 1].");
        }

        if (double.IsNaN(degreesOfFreedom) || degreesOfFreedom <= 0.0)
        {
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "Degrees of freedom must be positive.");
        }

        if (p == 0.5)
        {
            return 0.0;
        }

        if (p == 0.0)
        {
            return double.NegativeInfinity;
        }

        if (p == 1.0)
        {
            return double.PositiveInfinity;
        }

        if (degreesOfFreedom > NormalDegreesOfFreedom)
        {
            return NormalQuantile(p);
        }

        var upperTail = p > 0.5 ? 1.0 - p : p;
        // 1 − 0.975 is not exactly 0.025 in binary: the 95 % quantile, by far the most used, gets its z directly.
        var z = p == 0.975 || p == 0.025 ? Z975 : -NormalQuantile(upperTail);
        var t = UpperTailQuantile(upperTail, z, degreesOfFreedom);
        return p > 0.5 ? t : -t;
    }

    /// <summary>The t ≥ 0 with P(T &gt; t) = q, 0 &lt; q &lt; ½, given z = Φ⁻¹(1 − q).</summary>
    private static double UpperTailQuantile(double q, double z, double nu)
    {
        var t = z;
        if (nu >= 4.0)
        {
            var z2 = z * z;
            var g1 = (z2 + 1.0) * z / 4.0;
            var g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
            var g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
            var g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
            t = z + (g1 + (g2 + (g3 + g4 / nu) / nu) / nu) / nu;
        }

        double low = 0.0, high = double.PositiveInfinity;
        for (var i = 0; i < 200; i++)
        {
            var f = 0.5 * StudentTTwoSided(t, nu) - q; // decreasing in t
            if (f == 0.0)
            {
                return t;
            }

            if (f > 0.0)
            {
                low = t;
            }
            else
            {
                high = t;
            }

            // Halley with f' = −pdf, f''/f' = −(ν+1)t/(ν+t²): t ← t + u / (1 − u·k/2), u = f/pdf, k = (ν+1)t/(ν+t²).
            var u = f / StudentTPdf(t, nu);
            var k = (nu + 1.0) * t / (nu + t * t);
            var next = t + u / (1.0 - 0.5 * u * k);

            // Halley converges cubically: after a step of relative size 1e-8 the error left is far below an ulp.
            if (Math.Abs(next - t) <= 1e-8 * Math.Max(1.0, t))
            {
                return next;
            }

            if (!double.IsFinite(next) || next <= low || next >= high)
            {
                next = double.IsPositiveInfinity(high) ? 2.0 * low + 1.0 : 0.5 * (low + high);
            }

            t = next;
        }

        return t;
    }

    // ---------------------------------------------------------------- chi-square and binomial

    /// <summary>P(χ²_k &gt; x) = Q(k/2, x/2).</summary>
    public static double ChiSquareSurvival(double x, double degreesOfFreedom) =>
        RegularizedGamma(0.5 * degreesOfFreedom, 0.5 * x).Upper;

    /// <summary>P(X ≤ k) for X ~ Binomial(n, p) = I_{1−p}(n − k, k + 1), exact for any n.</summary>
    public static double BinomialCdf(long k, long n, double p)
    {
        if (k < 0)
        {
            return 0.0;
        }

        if (k >= n)
        {
            return 1.0;
        }

        return RegularizedBeta(n - k, k + 1.0, 1.0 - p, p).Lower;
    }
}
