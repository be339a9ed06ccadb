using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Wes.Runs;

namespace Wes.Persistence;

// Table and column names are snake_case so the hand-written SQL in RunStore reads the same on every provider.
internal sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> builder)
    {
        builder.ToTable("runs");
        builder.HasKey(r => r.Seq);
        builder.Property(r => r.Seq).HasColumnName("seq").ValueGeneratedOnAdd();
        builder.Property(r => r.RunId).HasColumnName("run_id").HasMaxLength(64);
        builder.HasIndex(r => r.RunId).IsUnique();
        builder.Property(r => r.State).HasColumnName("state").HasMaxLength(20);
        // The claim query scans QUEUED runs in submission order; the counts group by state.
        builder.HasIndex(r => new { r.State, r.Seq });
        builder.Property(r => r.SubmittedAt).HasColumnName("submitted_at");
        builder.Property(r => r.StartedAt).HasColumnName("started_at");
        builder.Property(r => r.EndedAt).HasColumnName("ended_at");
        // Runs finished per hour read only the window's entries of this index, and their final state from it too.
        builder.HasIndex(r => new { r.EndedAt, r.State }).HasDatabaseName("ix_runs_ended_at_state");
        builder.Property(r => r.UpdatedAt).HasColumnName("updated_at");
        builder.Property(r => r.Provider).HasColumnName("provider").HasMaxLength(32);
        builder.Property(r => r.Owner).HasColumnName("owner").HasMaxLength(200);
        // Listing a user's runs newest first, and counting a user's QUEUED runs at each submission.
        builder.HasIndex(r => new { r.Owner, r.Seq });
        builder.HasIndex(r => new { r.Owner, r.State });
        builder.Property(r => r.WorkflowType).HasColumnName("workflow_type").HasMaxLength(32);
        builder.Property(r => r.WorkflowTypeVersion).HasColumnName("workflow_type_version").HasMaxLength(32);
        builder.Property(r => r.WorkflowUrl).HasColumnName("workflow_url");
        builder.Property(r => r.Engine).HasColumnName("engine").HasMaxLength(64);
        builder.Property(r => r.EngineVersion).HasColumnName("engine_version").HasMaxLength(64);
        builder.Property(r => r.Attempt).HasColumnName("attempt");
        builder.Property(r => r.NotBefore).HasColumnName("not_before");
        builder.Property(r => r.LeaseOwner).HasColumnName("lease_owner").HasMaxLength(200);
        builder.Property(r => r.LeaseExpiresAt).HasColumnName("lease_expires_at");
        builder.Property(r => r.EnginePid).HasColumnName("engine_pid");
        builder.Property(r => r.ProviderHandle).HasColumnName("provider_handle").HasMaxLength(400);
        builder.Property(r => r.ExitCode).HasColumnName("exit_code");
        builder.Property(r => r.ErrorMessage).HasColumnName("error_message");
        builder.Property(r => r.CmdJson).HasColumnName("cmd_json");
        builder.Property(r => r.OutputsJson).HasColumnName("outputs_json");
        builder.Property(r => r.RequestJson).HasColumnName("request_json");
        builder.Property(r => r.TagsJson).HasColumnName("tags_json");
        builder.Property(r => r.SystemLogsJson).HasColumnName("system_logs_json");
        builder.Property(r => r.FilesRemovedAt).HasColumnName("files_removed_at");
        // The retention sweep reads ended runs whose files are still there, oldest first; runs already swept or
        // still going are not in the index at all, so it stays small however many runs are kept.
        builder.HasIndex(r => new { r.EndedAt, r.RunId }).HasDatabaseName("ix_runs_retention_candidates")
            .HasFilter("files_removed_at IS NULL AND ended_at IS NOT NULL");
        builder.Ignore(r => r.RunState);
    }
}

internal sealed class RunStateChangeConfiguration : IEntityTypeConfiguration<RunStateChange>
{
    public void Configure(EntityTypeBuilder<RunStateChange> builder)
    {
        builder.ToTable("run_state_history");
        builder.HasKey(h => h.Id);
        builder.Property(h => h.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(h => h.RunId).HasColumnName("run_id").HasMaxLength(64);
        builder.HasIndex(h => new { h.RunId, h.Id });
        builder.Property(h => h.FromState).HasColumnName("from_state").HasMaxLength(20);
        builder.Property(h => h.ToState).HasColumnName("to_state").HasMaxLength(20);
        builder.Property(h => h.At).HasColumnName("at");
        builder.Property(h => h.Actor).HasColumnName("actor").HasMaxLength(200);
        builder.Property(h => h.Reason).HasColumnName("reason");
    }
}

internal sealed class RunTaskConfiguration : IEntityTypeConfiguration<RunTask>
{
    public void Configure(EntityTypeBuilder<RunTask> builder)
    {
        builder.ToTable("run_tasks");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(t => t.RunId).HasColumnName("run_id").HasMaxLength(64);
        builder.HasIndex(t => new { t.RunId, t.TaskId }).IsUnique();
        builder.HasIndex(t => new { t.RunId, t.Id });
        builder.Property(t => t.TaskId).HasColumnName("task_id").HasMaxLength(200);
        builder.Property(t => t.Name).HasColumnName("name");
        builder.Property(t => t.CmdJson).HasColumnName("cmd_json");
        builder.Property(t => t.StartTime).HasColumnName("start_time");
        builder.Property(t => t.EndTime).HasColumnName("end_time");
        builder.Property(t => t.ExitCode).HasColumnName("exit_code");
        builder.Property(t => t.SystemLogsJson).HasColumnName("system_logs_json");
    }
}

internal sealed class ExecutorRecordConfiguration : IEntityTypeConfiguration<ExecutorRecord>
{
    public void Configure(EntityTypeBuilder<ExecutorRecord> builder)
    {
        builder.ToTable("executors");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).HasColumnName("id").HasMaxLength(200);
        builder.Property(e => e.Host).HasColumnName("host").HasMaxLength(200);
        builder.Property(e => e.Pid).HasColumnName("pid");
        builder.Property(e => e.Workers).HasColumnName("workers");
        builder.Property(e => e.Running).HasColumnName("running");
        builder.Property(e => e.StartedAt).HasColumnName("started_at");
        builder.Property(e => e.LastSeenAt).HasColumnName("last_seen_at");
        builder.HasIndex(e => e.LastSeenAt);
    }
}

internal sealed class ServerSettingConfiguration : IEntityTypeConfiguration<ServerSetting>
{
    public void Configure(EntityTypeBuilder<ServerSetting> builder)
    {
        builder.ToTable("server_settings");
        builder.HasKey(s => s.Key);
        builder.Property(s => s.Key).HasColumnName("key").HasMaxLength(100);
        builder.Property(s => s.Value).HasColumnName("value");
    }
}

internal sealed class SubmissionKeyConfiguration : IEntityTypeConfiguration<SubmissionKey>
{
    public void Configure(EntityTypeBuilder<SubmissionKey> builder)
    {
        builder.ToTable("submission_keys");
        builder.HasKey(k => new { k.Scope, k.Key });
        builder.Property(k => k.Scope).HasColumnName("scope").HasMaxLength(200);
        builder.Property(k => k.Key).HasColumnName("key").HasMaxLength(255);
        builder.Property(k => k.RunId).HasColumnName("run_id").HasMaxLength(64);
        builder.Property(k => k.RequestHash).HasColumnName("request_hash").HasMaxLength(64);
        builder.Property(k => k.CreatedAt).HasColumnName("created_at");
        // Expired keys are removed oldest first.
        builder.HasIndex(k => k.CreatedAt);
    }
}

internal sealed class RunStateCountConfiguration : IEntityTypeConfiguration<RunStateCount>
{
    public void Configure(EntityTypeBuilder<RunStateCount> builder)
    {
        // Written only by the triggers on runs (see the AddRunStateCounts migration), never by the application.
        builder.ToTable("run_state_counts");
        builder.HasKey(c => new { c.State, c.Shard });
        builder.Property(c => c.State).HasColumnName("state").HasMaxLength(20);
        builder.Property(c => c.Shard).HasColumnName("shard");
        builder.Property(c => c.Count).HasColumnName("count");
    }
}
