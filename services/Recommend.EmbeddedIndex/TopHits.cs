using Recommend.Core.Vectors;

namespace Recommend.EmbeddedIndex;

/// <summary>
/// The best <c>limit</c> hits seen so far, in a min-heap whose root is the worst one kept: each candidate costs
/// O(log k) instead of sorting every row. Equal scores rank by product id so results are deterministic.
/// </summary>
internal sealed class TopHits
{
    private readonly int _limit;
    private readonly PriorityQueue<VectorHit, VectorHit> _heap;

    public TopHits(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        _limit = limit;
        _heap = new PriorityQueue<VectorHit, VectorHit>(limit, WorstFirst.Instance);
    }

    /// <summary>Scores below this can never be kept: a cheap first test before the full comparison.</summary>
    public float Cutoff { get; private set; } = float.NegativeInfinity;

    public int Count => _heap.Count;

    public bool WouldKeep(VectorHit candidate) =>
        _heap.Count < _limit || WorstFirst.Instance.Compare(candidate, _heap.Peek()) > 0;

    /// <summary>Adds a candidate that <see cref="WouldKeep"/> accepted, evicting the worst hit when full.</summary>
    public void Add(VectorHit candidate)
    {
        if (_heap.Count < _limit)
            _heap.Enqueue(candidate, candidate);
        else
            _heap.EnqueueDequeue(candidate, candidate);
        if (_heap.Count == _limit)
            Cutoff = _heap.Peek().Score;
    }

    public VectorHit[] BestFirst()
    {
        var hits = new VectorHit[_heap.Count];
        // The heap yields the worst hit first, so fill from the end.
        for (var i = hits.Length - 1; i >= 0; i--)
            hits[i] = _heap.Dequeue();
        return hits;
    }

    private sealed class WorstFirst : IComparer<VectorHit>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare(VectorHit x, VectorHit y)
        {
            var byScore = x.Score.CompareTo(y.Score);
            // On equal scores the larger id counts as worse, so the smaller id is listed first.
            return byScore != 0 ? byScore : string.CompareOrdinal(y.ProductId, x.ProductId);
        }
    }
}
