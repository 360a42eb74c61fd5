// An oidc-provider storage adapter in memory that lets a test age refresh tokens without waiting.
type Payload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string; exp?: number };

/** One store per provider instance (oidc-provider's bundled memory adapter is process-global). */
export function createMemoryAdapter() {
  const models = new Map<string, Map<string, Payload>>();
  const modelStore = (name: string) => {
    let store = models.get(name);
    if (!store) models.set(name, (store = new Map()));
    return store;
  };
  const findBy = (name: string, field: 'userCode' | 'uid', value: string) =>
    [...modelStore(name).values()].find((p) => p[field] === value);

  class MemoryAdapter {
    constructor(private readonly name: string) {}
    private get store() {
      return modelStore(this.name);
    }
    async upsert(id: string, payload: Payload) {
      this.store.set(id, { ...payload });
    }
    async find(id: string) {
      return this.store.get(id);
    }
    async findByUserCode(userCode: string) {
      return findBy(this.name, 'userCode', userCode);
    }
    async findByUid(uid: string) {
      return findBy(this.name, 'uid', uid);
    }
    async consume(id: string) {
      const payload = this.store.get(id);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      this.store.delete(id);
    }
    async revokeByGrantId(grantId: string) {
      for (const store of models.values()) {
        for (const [id, payload] of store) if (payload.grantId === grantId) store.delete(id);
      }
    }
  }

  return {
    MemoryAdapter,
    /** Moves the expiry of every stored refresh token into the past, as if its TTL had run out. */
    expireRefreshTokens() {
      for (const payload of modelStore('RefreshToken').values()) payload.exp = Math.floor(Date.now() / 1000) - 1;
    },
  };
}
