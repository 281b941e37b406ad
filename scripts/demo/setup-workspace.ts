import type { AdminApi } from './admin-api.ts';
import type { DemoRun } from './run-context.ts';

interface SourceView {
  source: string;
  webhookUrl: string;
}

/** The admin config of each source, with this run's secrets (docs/webhooks.md, "Config"). */
function sourceConfigs(run: DemoRun): Record<string, Record<string, unknown>> {
  const { secrets, accounts } = run;
  return {
    hubspot: { clientSecrets: [secrets.hubspotClientSecret], appId: accounts.hubspotAppId, portalId: accounts.hubspotPortalId },
    salesforce: {
      organizationId: accounts.salesforceOrgId,
      urlToken: secrets.salesforceUrlToken,
      integrationUserId: accounts.salesforceIntegrationUserId,
      flowCalloutSecret: secrets.salesforceFlowSecret,
    },
    docusign: { hmacKeys: [secrets.docusignHmacKey] },
    pandadoc: { sharedKeys: [secrets.pandadocSharedKey] },
    gong: { mode: 'url_token', urlToken: secrets.gongUrlToken },
  };
}

/**
 * Creates (or replaces) the workspace in shadow mode and configures all five sources. Both are
 * PUTs, so running the demo again simply replaces them; the secrets are new on every run.
 */
export async function setUpWorkspace(api: AdminApi, run: DemoRun): Promise<SourceView[]> {
  const ws = run.options.workspace;
  await api.put(`/workspaces/${ws}`, { name: 'Momentum demo', mode: 'shadow' });
  const views: SourceView[] = [];
  for (const [source, config] of Object.entries(sourceConfigs(run))) {
    views.push(await api.put<SourceView>(`/workspaces/${ws}/sources/${source}`, config));
  }
  return views;
}
