/** superoffice.tls.ca, read once per client: the CA that the SOAP calls, the system user login and the tenant status trust. */
import { readCaFile } from '../config/pem-file.ts';
import type { SuperOfficeConfig } from '../config/types.ts';
import { ClientSetupError } from './errors.ts';

/** The PEM text of superoffice.tls.ca, or undefined when it is not set. Throws ClientSetupError naming the key. */
export function superofficeCa(config: SuperOfficeConfig): string | undefined {
  const caPath = config.tls?.ca;
  if (caPath === undefined) return undefined;
  try {
    return readCaFile(caPath);
  } catch (error) {
    throw new ClientSetupError(`superoffice.tls.ca: ${error instanceof Error ? error.message : String(error)}`);
  }
}
