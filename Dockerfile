# One image for every kec service: `kec run <service>` picks the stage.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY libs ./libs
COPY services ./services
COPY tools ./tools
RUN npm install --omit=dev --no-audit --no-fund && ln -s /app/services/cli/bin/kec /usr/local/bin/kec
USER node
ENTRYPOINT ["kec"]
CMD ["run", "all"]
