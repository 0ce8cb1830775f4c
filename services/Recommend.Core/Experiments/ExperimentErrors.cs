using Recommend.Core.Errors;

namespace Recommend.Core.Experiments;

public sealed class ExperimentNotFoundException(string experimentId) : NotFoundException($"experiment {experimentId} does not exist")
{
    public string ExperimentId { get; } = experimentId;
}

/// <summary>A change the experiment's state forbids: it would move users between variants or restart a finished test.</summary>
public sealed class ExperimentStateException(string message) : PreconditionFailedException(message);
