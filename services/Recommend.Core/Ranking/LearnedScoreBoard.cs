using System.Collections.Concurrent;

namespace Recommend.Core.Ranking;

/// <summary>
/// Per-request tallies of the learned model's scores, indexed by model position: one slot per product the model names,
/// so summing a user's anchors' rows is array arithmetic, not a hash lookup per neighbour. A slot's fields sit together,
/// so a touch costs one cache miss, not one per field (a heavy user's anchors touch ten thousand slots scattered over
/// megabytes). Boards are pooled and handed back clean (only the touched slots are reset), so a request never clears,
/// or allocates, a million slots.
/// </summary>
internal sealed class LearnedScoreBoard
{
    private static readonly ConcurrentQueue<LearnedScoreBoard> Pool = [];
    private static readonly int MaxPooled = Environment.ProcessorCount * 2;

    private struct Slot
    {
        public double Score;
        public double Strongest;
        /// <summary>1 + the index of the anchor whose contribution is strongest; 0 for a slot not touched yet.</summary>
        public int Anchor;
    }

    private Slot[] _slots = [];
    private readonly List<int> _touched = [];

    public static LearnedScoreBoard Rent(int size)
    {
        if (!Pool.TryDequeue(out var board)) board = new LearnedScoreBoard();
        if (board._slots.Length < size) board._slots = new Slot[size];
        return board;
    }

    public IReadOnlyList<int> Touched => _touched;

    public double Score(int position) => _slots[position].Score;

    /// <summary>Index of the anchor that contributed most to the slot.</summary>
    public int StrongestAnchor(int position) => _slots[position].Anchor - 1;

    /// <summary>Adds <paramref name="anchorWeight"/> × the anchor's row.</summary>
    public void Add(int anchorIndex, double anchorWeight, ReadOnlySpan<int> positions, ReadOnlySpan<float> weights)
    {
        var slots = _slots;
        for (var i = 0; i < positions.Length; i++)
        {
            ref var slot = ref slots[positions[i]];
            var contribution = anchorWeight * weights[i];
            if (slot.Anchor == 0)
            {
                _touched.Add(positions[i]);
                slot = new Slot { Score = contribution, Strongest = contribution, Anchor = anchorIndex + 1 };
                continue;
            }
            slot.Score += contribution;
            if (contribution > slot.Strongest) (slot.Strongest, slot.Anchor) = (contribution, anchorIndex + 1);
        }
    }

    public void Return()
    {
        foreach (var position in _touched) _slots[position] = default;
        _touched.Clear();
        if (Pool.Count < MaxPooled) Pool.Enqueue(this);
    }
}
