using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Wes.Notifications;

/// <summary>
/// One alert for one receiver, in the outbox: written in the transaction that ends the run, sent by a
/// <see cref="WebhookSender"/>, kept a while after it was delivered or given up. Settable properties for Dapper and EF.
/// </summary>
public sealed class WebhookDelivery
{
    public const string Delivered = "delivered";
    public const string GaveUp = "gave_up";

    public long Id { get; set; }

    /// <summary>Sent as X-Wes-Delivery on every try, so a receiver can tell a retry from a new alert.</summary>
    public string DeliveryId { get; set; } = "";
    public string RunId { get; set; } = "";
    public string TargetUrl { get; set; } = "";
    public string State { get; set; } = "";
    public string? PreviousState { get; set; }
    public long CreatedAt { get; set; }

    /// <summary>Not sent before this time (epoch ms): the back-off after a failed try.</summary>
    public long NextAttemptAt { get; set; }
    public int Attempts { get; set; }

    /// <summary>The sender that is delivering it, until <see cref="LeaseExpiresAt"/>; no other sender takes it meanwhile.</summary>
    public string? LeaseOwner { get; set; }
    public long? LeaseExpiresAt { get; set; }
    public string? LastError { get; set; }

    /// <summary>Null while it is still to be sent; then <see cref="Delivered"/> or <see cref="GaveUp"/>.</summary>
    public string? Outcome { get; set; }
    public long? FinishedAt { get; set; }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(d => d.DeliveryId).HasColumnName("delivery_id").HasMaxLength(36);
        builder.HasIndex(d => d.DeliveryId).IsUnique();
        builder.Property(d => d.RunId).HasColumnName("run_id").HasMaxLength(64);
        builder.HasIndex(d => d.RunId);
        builder.Property(d => d.TargetUrl).HasColumnName("target_url");
        builder.Property(d => d.State).HasColumnName("state").HasMaxLength(20);
        builder.Property(d => d.PreviousState).HasColumnName("previous_state").HasMaxLength(20);
        builder.Property(d => d.CreatedAt).HasColumnName("created_at");
        builder.Property(d => d.NextAttemptAt).HasColumnName("next_attempt_at");
        builder.Property(d => d.Attempts).HasColumnName("attempts");
        builder.Property(d => d.LeaseOwner).HasColumnName("lease_owner").HasMaxLength(200);
        builder.Property(d => d.LeaseExpiresAt).HasColumnName("lease_expires_at");
        builder.Property(d => d.LastError).HasColumnName("last_error");
        builder.Property(d => d.Outcome).HasColumnName("outcome").HasMaxLength(20);
        builder.Property(d => d.FinishedAt).HasColumnName("finished_at");
        // Senders look for pending alerts by due time; the pruning looks for finished ones by age.
        builder.HasIndex(d => new { d.Outcome, d.NextAttemptAt });
        builder.HasIndex(d => d.FinishedAt);
    }
}
