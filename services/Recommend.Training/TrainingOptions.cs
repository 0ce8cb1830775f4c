namespace Recommend.Training;

/// <summary>The "Recommend:Training" configuration section: what the learned model is and when the host retrains it.</summary>
public sealed class TrainingOptions
{
    public const string Section = "Recommend:Training";

    /// <summary>Train in the host on a schedule. Off where a CronJob runs <c>recommend train</c> (deploy/k8s) or replicas share a database.</summary>
    public bool InHost { get; set; } = true;

    /// <summary>Retrain at least this often while new purchases arrive.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Retrain sooner once this many purchases arrived since the live model was trained.</summary>
    public long MinNewPurchases { get; set; } = 10_000;

    /// <summary>How often the host checks whether training is due and whether another process published a newer model.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Neighbours kept per product (the model's memory is products × this).</summary>
    public int Neighbours { get; set; } = 50;

    /// <summary>
    /// Strongest negative EASE weights kept per product besides the positive neighbours: they hold back products that
    /// customers of the source rarely buy as well (substitutes), as the full model would. Item-kNN rows have none.
    /// Dropping them costs EASE more than dropping the weak positive weights does (docs/evaluation.md).
    /// </summary>
    public int NegativeNeighbours { get; set; } = 50;

    /// <summary>EASE's L2 regularisation λ (Steck 2019).</summary>
    public double Lambda { get; set; } = 200;

    /// <summary>
    /// Products EASE covers (the most purchased); its cost is this³ time and 2 × this² × 8 bytes. Products beyond it get
    /// item-kNN neighbours (cosine over customers, shrunk).
    /// </summary>
    public int MaxDenseItems { get; set; } = 4_000;

    /// <summary>Shrinkage of the item-kNN cosine: pairs with few common customers count less.</summary>
    public double KnnShrinkage { get; set; } = 10;

    /// <summary>Most recent products per customer that training reads; bounds the cost of wholesalers' histories.</summary>
    public int MaxItemsPerUser { get; set; } = 1_000;

    /// <summary>Threads the solver uses; 0 = all cores but one (serving keeps a core).</summary>
    public int Threads { get; set; }

    public int SolverThreads => Threads > 0 ? Threads : Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>What is wrong with the options, or null.</summary>
    public string? Validate() =>
        Neighbours is < 1 or > 1_000 ? "Recommend:Training:Neighbours must be within [1, 1000]"
        : NegativeNeighbours is < 0 or > 1_000 ? "Recommend:Training:NegativeNeighbours must be within [0, 1000]"
        : !(Lambda > 0) || !double.IsFinite(Lambda) ? "Recommend:Training:Lambda must be a positive number"
        : MaxDenseItems is < 0 or > 20_000 ? "Recommend:Training:MaxDenseItems must be within [0, 20000]"
        : !(KnnShrinkage >= 0) ? "Recommend:Training:KnnShrinkage must be ≥ 0"
        : MaxItemsPerUser < 1 ? "Recommend:Training:MaxItemsPerUser must be ≥ 1"
        : Interval <= TimeSpan.Zero || CheckInterval <= TimeSpan.Zero ? "Recommend:Training:Interval and CheckInterval must be positive"
        : null;
}
