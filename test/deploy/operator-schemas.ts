/**
 * JSON Schemas of the operator resources the cluster kit uses and no npm package ships: the
 * RabbitMQ Cluster Operator's RabbitmqCluster, the Messaging Topology Operator's Exchange, Queue
 * and Binding, and CloudNativePG's Cluster. Written from the operators' API references for the
 * fields the kit sets (types, enums, required fields); every other field is refused, so a typo or
 * a field at the wrong level fails the test instead of being ignored by `kubectl apply`.
 * Core kinds and prometheus-operator kinds are checked with the kubernetes-models packages.
 */

const string = { type: 'string' };
const integer = { type: 'integer' };
const boolean = { type: 'boolean' };
const quantity = { type: ['string', 'integer'] };
const resources = {
  type: 'object',
  additionalProperties: false,
  properties: {
    requests: { type: 'object', additionalProperties: quantity },
    limits: { type: 'object', additionalProperties: quantity },
  },
};
const clusterReference = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: string, namespace: string },
};

function resource(apiVersion: string, kind: string, spec: object) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      apiVersion: { const: apiVersion },
      kind: { const: kind },
      metadata: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
          namespace: string,
          labels: { type: 'object', additionalProperties: string },
          annotations: { type: 'object', additionalProperties: string },
        },
        additionalProperties: false,
      },
      spec,
    },
  };
}

const topologyCommon = {
  rabbitmqClusterReference: clusterReference,
  vhost: string,
  name: string,
  durable: boolean,
  autoDelete: boolean,
  arguments: { type: 'object' },
};

/** An Exchange or Queue of the Messaging Topology Operator: a named object of a type. */
const topologyObject = (kind: string, types: string[]) =>
  resource('rabbitmq.com/v1beta1', kind, {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'rabbitmqClusterReference'],
    properties: { ...topologyCommon, type: { enum: types } },
  });

export const OPERATOR_SCHEMAS: Record<string, object> = {
  'rabbitmq.com/v1beta1 RabbitmqCluster': resource('rabbitmq.com/v1beta1', 'RabbitmqCluster', {
    type: 'object',
    additionalProperties: false,
    properties: {
      replicas: { type: 'integer', minimum: 0 },
      image: string,
      resources,
      persistence: {
        type: 'object',
        additionalProperties: false,
        properties: { storage: quantity, storageClassName: string },
      },
      rabbitmq: {
        type: 'object',
        additionalProperties: false,
        properties: {
          additionalConfig: string,
          advancedConfig: string,
          additionalPlugins: { type: 'array', items: string },
        },
      },
      affinity: { type: 'object' },
      tolerations: { type: 'array' },
      service: { type: 'object' },
    },
  }),
  'rabbitmq.com/v1beta1 Exchange': topologyObject('Exchange', [
    'direct',
    'fanout',
    'topic',
    'headers',
  ]),
  'rabbitmq.com/v1beta1 Queue': topologyObject('Queue', ['quorum', 'classic', 'stream']),
  'rabbitmq.com/v1beta1 Binding': resource('rabbitmq.com/v1beta1', 'Binding', {
    type: 'object',
    additionalProperties: false,
    required: ['source', 'destination', 'destinationType', 'rabbitmqClusterReference'],
    properties: {
      rabbitmqClusterReference: clusterReference,
      vhost: string,
      source: string,
      destination: string,
      destinationType: { enum: ['queue', 'exchange'] },
      routingKey: string,
      arguments: { type: 'object' },
    },
  }),
  'postgresql.cnpg.io/v1 Cluster': resource('postgresql.cnpg.io/v1', 'Cluster', {
    type: 'object',
    additionalProperties: false,
    required: ['instances', 'storage'],
    properties: {
      instances: { type: 'integer', minimum: 1 },
      imageName: string,
      primaryUpdateStrategy: { enum: ['unsupervised', 'supervised'] },
      postgresql: {
        type: 'object',
        additionalProperties: false,
        properties: {
          parameters: { type: 'object', additionalProperties: string },
          synchronous: {
            type: 'object',
            additionalProperties: false,
            required: ['method', 'number'],
            properties: {
              method: { enum: ['any', 'first'] },
              number: { type: 'integer', minimum: 1 },
              dataDurability: { enum: ['required', 'preferred'] },
              maxStandbyNamesFromCluster: integer,
              standbyNamesPre: { type: 'array', items: string },
              standbyNamesPost: { type: 'array', items: string },
            },
          },
        },
      },
      bootstrap: {
        type: 'object',
        additionalProperties: false,
        properties: {
          initdb: {
            type: 'object',
            additionalProperties: false,
            properties: { database: string, owner: string, secret: { type: 'object' } },
          },
        },
      },
      storage: {
        type: 'object',
        additionalProperties: false,
        required: ['size'],
        properties: { size: string, storageClass: string },
      },
      resources,
      affinity: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enablePodAntiAffinity: boolean,
          topologyKey: string,
          podAntiAffinityType: { enum: ['preferred', 'required'] },
        },
      },
      monitoring: {
        type: 'object',
        additionalProperties: false,
        properties: { enablePodMonitor: boolean },
      },
    },
  }),
};
