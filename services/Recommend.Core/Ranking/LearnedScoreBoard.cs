using System.Collections.Concurrent;
using Recommend.Core.Learning;

namespace Recommend.Core.Ranking;

/// <summary>
/// Per-request tallies of the learned model's scores, indexed by model position: one slot per product the model names,
/// so summing a user's anchors' rows is array arithmetic, not a hash lookup per neighbour. Boards are pooled and handed
/// back clean (only the touched slots are reset), so a request never clears, or allocates, a million slots.
/// </summary>
internal sealed class LearnedScoreBoard
{
    private static readonly ConcurrentBag<LearnedScoreBoard> Pool = [];
    private static readonly int MaxPooled = Environment.ProcessorCount * 2;

    private double[] _score = [];
    private double[] _strongest = [];
    /// <summary>1 + the index of the anchor whose contribution is strongest; 0 for a slot not touched yet.</summary>
    private int[] _anchor = [];
    private readonly List<int> _touched = [];

    public static LearnedScoreBoard Rent(int size)
    {
        if (!Pool.TryTake(out var board)) board = new LearnedScoreBoard();
        if (board._score.Length < size)
            (board._score, board._strongest, board._anchor) = (new double[size], new double[size], new int[size]);
        return board;
    }

    public IReadOnlyList<int> Touched => _touched;

    public double Score(int position) => _score[position];

    /// <summary>Index of the anchor that contributed most to the slot.</summary>
    public int StrongestAnchor(int position) => _anchor[position] - 1;

    /// <summary>Adds <paramref name="anchorWeight"/> × the anchor's row.</summary>
    public void Add(int anchorIndex, double anchorWeight, ReadOnlySpan<int> positions, ReadOnlySpan<float> weights)
    {
        for (var i = 0; i < positions.Length; i++)
        {
            var position = positions[i];
            var contribution = anchorWeight * weights[i];
            if (_anchor[position] == 0)
            {
                _touched.Add(position);
                (_score[position], _strongest[position], _anchor[position]) = (contribution, contribution, anchorIndex + 1);
                continue;
            }
            _score[position] += contribution;
            if (contribution > _strongest[position]) (_strongest[position], _anchor[position]) = (contribution, anchorIndex + 1);
        }
    }

    public void Return()
    {
        foreach (var position in _touched) (_score[position], _strongest[position], _anchor[position]) = (0, 0, 0);
        _touched.Clear();
        if (Pool.Count < MaxPooled) Pool.Add(this);
    }
}
