using Recommend.Core.Errors;

namespace Recommend.Indexing.Jobs;

/// <summary>A job could not start because another one has not finished.</summary>
public sealed class ReindexJobRunningException(string jobId) : PreconditionFailedException($"reindex job {jobId} is running")
{
    public string JobId { get; } = jobId;
}

/// <summary>A re-indexing request that cannot be honoured in the current state.</summary>
public sealed class ReindexPreconditionException(string message) : PreconditionFailedException(message);

/// <summary>No job has this id.</summary>
public sealed class ReindexJobNotFoundException(string jobId) : NotFoundException($"reindex job {jobId} does not exist")
{
    public string JobId { get; } = jobId;
}
