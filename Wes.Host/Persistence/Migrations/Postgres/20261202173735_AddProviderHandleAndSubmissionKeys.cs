using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Wes.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AddProviderHandleAndSubmissionKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "provider_handle",
                table: "runs",
                type: "character varying(400)",
                maxLength: 400,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "submission_keys",
                columns: table => new
                {
                    scope = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    key = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    run_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    request_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    created_at = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_submission_keys", x => new { x.scope, x.key });
                });

            migrationBuilder.CreateIndex(
                name: "IX_submission_keys_created_at",
                table: "submission_keys",
                column: "created_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "submission_keys");

            migrationBuilder.DropColumn(
                name: "provider_handle",
                table: "runs");
        }
    }
}
