namespace Recommend.EmbeddedIndex.Tests;

/// <summary>Indexes in throw-away directories, all closed and deleted when the test ends.</summary>
internal sealed class TemporaryIndexes : IDisposable
{
    private readonly List<EmbeddedVectorIndex> _opened = [];
    private readonly Dictionary<string, EmbeddedIndexOptions?> _optionsOf = [];
    private readonly List<string> _directories = [];

    public string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "recommend-embedded-index-tests", Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        return directory;
    }

    public EmbeddedVectorIndex Open(string directory, EmbeddedIndexOptions? options = null)
    {
        var index = EmbeddedVectorIndex.Open(directory, options);
        _optionsOf[index.DirectoryPath] = options;
        _opened.Add(index);
        return index;
    }

    public EmbeddedVectorIndex Create(EmbeddedIndexOptions? options = null) => Open(NewDirectory(), options);

    /// <summary>Closes the index and opens its directory again, with the same options, as a restarted process would.</summary>
    public EmbeddedVectorIndex Reopen(EmbeddedVectorIndex index)
    {
        index.Dispose();
        return Open(index.DirectoryPath, _optionsOf.GetValueOrDefault(index.DirectoryPath));
    }

    /// <summary>
    /// A copy of an open index's files, as a process killed this instant would leave them (every acknowledged write
    /// is already on disk), opened as a new index.
    /// </summary>
    public EmbeddedVectorIndex OpenCrashImage(EmbeddedVectorIndex index)
    {
        var copy = NewDirectory();
        foreach (var file in Directory.EnumerateFiles(index.DirectoryPath, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(index.DirectoryPath, file);
            if (relative == ".lock")
                continue;
            var target = Path.Combine(copy, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return Open(copy, _optionsOf.GetValueOrDefault(index.DirectoryPath));
    }

    public void Dispose()
    {
        foreach (var index in _opened)
            index.Dispose();
        foreach (var directory in _directories.Where(Directory.Exists))
            Directory.Delete(directory, recursive: true);
    }
}
