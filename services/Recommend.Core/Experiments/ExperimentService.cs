using System.Security.Cryptography;
using Recommend.Core.Errors;

namespace Recommend.Core.Experiments;

/// <summary>
/// The experiment lifecycle (draft → running → stopped) and the rules that protect its statistics: a running
/// experiment's weights and profiles never change, one running experiment per placement, no restart after a stop.
/// </summary>
public sealed class ExperimentService(IExperimentStore store, RunningExperiments running, ExperimentReporter reporter, TimeProvider time)
{
    /// <summary>
    /// Stores <paramref name="draft"/> as a draft (an empty id gets a generated one). Sending an existing draft's id again
    /// replaces it; sending a started experiment's id again returns it unchanged if nothing differs, else is refused.
    /// </summary>
    public async Task<Experiment> CreateAsync(Experiment draft, CancellationToken ct)
    {
        ExperimentRules.Validate(draft);
        var now = time.GetUtcNow();
        var existing = draft.Id.Length == 0 ? null : await store.GetExperimentAsync(draft.Id, ct);
        var experiment = draft with
        {
            Id = draft.Id.Length > 0 ? draft.Id : $"exp-{now:yyyyMMdd}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}",
            // A resent experiment keeps its salt: the same users stay in the same variants.
            Salt = existing?.Salt ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            CreatedAt = existing?.CreatedAt ?? now,
            Status = ExperimentStatus.Draft,
            StartedAt = null,
            StoppedAt = null,
        };
        var stored = existing is { Status: not ExperimentStatus.Draft } ? existing : await store.SaveDraftAsync(experiment, ct);
        if (stored.Status == ExperimentStatus.Draft) return stored;
        if (stored.SameDesign(experiment) && stored.Name == experiment.Name && stored.Description == experiment.Description) return stored;
        throw new ExperimentStateException(
            $"experiment {stored.Id} is {Describe(stored.Status)}: its traffic weights and profiles cannot change (create a new experiment)");
    }

    public async Task<Experiment> GetAsync(string experimentId, CancellationToken ct) =>
        await store.GetExperimentAsync(experimentId, ct) ?? throw new ExperimentNotFoundException(experimentId);

    public Task<IReadOnlyList<Experiment>> ListAsync(CancellationToken ct) => store.ListExperimentsAsync(ct);

    /// <summary>Draft → running; starting a running experiment again is a no-op.</summary>
    public async Task<Experiment> StartAsync(string experimentId, CancellationToken ct)
    {
        var (experiment, conflict) = await store.StartExperimentAsync(experimentId, time.GetUtcNow(), ct);
        if (experiment is null) throw new ExperimentNotFoundException(experimentId);
        if (conflict is not null)
        {
            var other = await store.GetExperimentAsync(conflict, ct);
            var shared = other?.Placements.Intersect(experiment.Placements, StringComparer.Ordinal).FirstOrDefault();
            throw new ExperimentStateException($"experiment {conflict} is already running on placement {shared ?? "(shared)"}; stop it first");
        }
        if (experiment.Status == ExperimentStatus.Stopped)
            throw new ExperimentStateException($"experiment {experimentId} was stopped and cannot run again (its users have seen the test end); create a new one");
        running.Invalidate();
        return experiment;
    }

    /// <summary>Running → stopped; stopping a stopped experiment again is a no-op.</summary>
    public async Task<Experiment> StopAsync(string experimentId, CancellationToken ct)
    {
        var experiment = await store.StopExperimentAsync(experimentId, time.GetUtcNow(), ct) ?? throw new ExperimentNotFoundException(experimentId);
        if (experiment.Status == ExperimentStatus.Draft) throw new ExperimentStateException($"experiment {experimentId} has not started");
        running.Invalidate();
        return experiment;
    }

    /// <exception cref="InvalidRequestException">The range is empty or reversed.</exception>
    public async Task<ExperimentReport> ReportAsync(string experimentId, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct)
    {
        var experiment = await GetAsync(experimentId, ct);
        var now = time.GetUtcNow();
        var start = from ?? experiment.StartedAt ?? experiment.CreatedAt;
        var end = to ?? experiment.StoppedAt ?? now;
        if (end < start) throw new InvalidRequestException("to", "must not be before from");
        return await reporter.ReportAsync(experiment, start, end, now, ct);
    }

    private static string Describe(ExperimentStatus status) => status == ExperimentStatus.Running ? "running" : "stopped";
}
