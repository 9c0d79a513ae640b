import { GATEWAY_GROUP, type ReferenceGrant } from '../resources/gateway-api.ts';

export interface CrossNamespaceRef {
  /** Kind of the referring Gateway API object (HTTPRoute, Gateway, …), group gateway.networking.k8s.io. */
  fromKind: string;
  fromNamespace: string;
  toGroup: string;
  toKind: string;
  toNamespace: string;
  toName: string;
}

/** Whether a ReferenceGrant in the target's namespace allows this cross-namespace reference. */
export function referenceGranted(grants: readonly ReferenceGrant[], ref: CrossNamespaceRef): boolean {
  return grants.some(
    (g) =>
      (g.metadata.namespace ?? 'default') === ref.toNamespace &&
      g.spec.from.some(
        (f) => f.group === GATEWAY_GROUP && f.kind === ref.fromKind && f.namespace === ref.fromNamespace,
      ) &&
      g.spec.to.some(
        (t) =>
          t.group === ref.toGroup && t.kind === ref.toKind && (t.name === undefined || t.name === ref.toName),
      ),
  );
}
