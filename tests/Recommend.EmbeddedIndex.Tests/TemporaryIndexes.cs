namespace Recommend.EmbeddedIndex.Tests;

/// <summary>Indexes in throw-away directories, all closed and deleted when the test ends.</summary>
internal sealed class TemporaryIndexes : IDisposable
{
    private readonly List<EmbeddedVectorIndex> _opened = [];
    private readonly List<string> _directories = [];

    public string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "recommend-embedded-index-tests", Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        return directory;
    }

    public EmbeddedVectorIndex Open(string directory)
    {
        var index = EmbeddedVectorIndex.Open(directory);
        _opened.Add(index);
        return index;
    }

    public EmbeddedVectorIndex Create() => Open(NewDirectory());

    /// <summary>Closes the index and opens its directory again, as a restarted process would.</summary>
    public EmbeddedVectorIndex Reopen(EmbeddedVectorIndex index)
    {
        index.Dispose();
        return Open(index.DirectoryPath);
    }

    public void Dispose()
    {
        foreach (var index in _opened)
            index.Dispose();
        foreach (var directory in _directories.Where(Directory.Exists))
            Directory.Delete(directory, recursive: true);
    }
}
