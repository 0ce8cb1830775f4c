using Recommend.Core.Ranking;

namespace Recommend.Core.Tests.Ranking;

public class LearnedScoreBoardTests
{
    [Fact]
    public void Sums_weighted_rows_and_remembers_the_strongest_anchor_of_each_slot()
    {
        var board = LearnedScoreBoard.Rent(5);
        try
        {
            board.Add(0, 1.0, [1, 2], [0.5f, -0.25f]);
            board.Add(1, 0.5, [1, 3], [2f, 1f]);

            Assert.Equal([1, 2, 3], board.Touched.Order());
            Assert.Equal(0.5 + 0.5 * 2, board.Score(1), 6);
            Assert.Equal(-0.25, board.Score(2), 6);
            Assert.Equal(0.5, board.Score(3), 6);
            // Slot 1: anchor 1 contributed 1.0 against anchor 0's 0.5.
            Assert.Equal(1, board.StrongestAnchor(1));
            Assert.Equal(0, board.StrongestAnchor(2));
        }
        finally
        {
            board.Return();
        }
    }

    [Fact]
    public void A_returned_board_comes_back_clean()
    {
        for (var round = 0; round < 3; round++)
        {
            var board = LearnedScoreBoard.Rent(4);
            Assert.Empty(board.Touched);
            for (var slot = 0; slot < 4; slot++) Assert.Equal(0, board.Score(slot));
            board.Add(0, 1, [0, 3], [1f, 1f]);
            board.Return();
        }
    }
}
