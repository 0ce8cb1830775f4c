namespace Recommend.Indexing.Pipeline;

/// <summary>How a pass over source rows treats what it reads; built by <see cref="Main"/> or <see cref="Reconcile"/>.</summary>
internal sealed record PassKind
{
    /// <summary>Tag for every product the pass sees, so a sweep can find the ones it did not see.</summary>
    public required string Mark { get; init; }

    /// <summary>The source is a file: changed products are written to the store too (the file is the catalog).</summary>
    public bool WritesStore { get; init; }

    /// <summary>Reconciling after a file: store products the file did not list (no hash in the target) leave the store.</summary>
    public bool RemovesUnlistedFromStore { get; init; }

    /// <summary>Rows count as source rows processed (the main pass), not as a follow-up.</summary>
    public bool CountsRows { get; init; }

    public static PassKind Main(string mark, bool fromFile) => new() { Mark = mark, WritesStore = fromFile, CountsRows = true };

    public static PassKind Reconcile(string mark, bool afterFile) => new() { Mark = mark, RemovesUnlistedFromStore = afterFile };
}
