using Recommend.Indexing.Jobs;

namespace Recommend.Indexing.Tests.Jobs;

/// <summary>Values the databases hold (and the migrations' partial indexes name): changing one would misread old rows.</summary>
public class PersistedValuesTests
{
    [Fact]
    public void Job_states_modes_and_phases_keep_their_numbers()
    {
        Assert.Equal([1, 2, 3, 4, 5, 6], Enum.GetValues<ReindexState>().Select(s => (int)s));
        Assert.Equal([1, 2], Enum.GetValues<ReindexMode>().Select(m => (int)m));
        Assert.Equal([0, 1, 2, 3], Enum.GetValues<ReindexPhase>().Select(p => (int)p));
    }
}
