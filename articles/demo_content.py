"""Demo content for ``manage.py load_demo``: topics, bylines and articles.

Every story, person and company here is invented for the demo; none of the
text is taken from real reporting. Bodies are written in a light markup so
the prose stays readable here: paragraphs are separated by a blank line, a
paragraph starting with ``## `` is a subheading and one starting with ``> ``
is a pull quote. :func:`render_body` turns it into the HTML the editor uses.

Articles are listed newest first. ``hours`` is how long ago a published story
went out, or how far ahead a scheduled one will; drafts have no publish time.
"""

from dataclasses import dataclass, field
from html import escape
from typing import Literal

State = Literal["published", "scheduled", "draft"]


@dataclass(frozen=True)
class DemoTopic:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class DemoAuthor:
    slug: str
    name: str
    bio: str


@dataclass(frozen=True)
class DemoLink:
    """A related card: another demo article (by slug) or an external URL."""

    article: str = ""
    url: str = ""
    title: str = ""
    summary: str = ""


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    title: str
    standfirst: str
    body: str
    why_it_matters: str
    impact_score: int
    topics: tuple[str, ...]
    author: str
    state: State = "published"
    hours: int = 0
    related: tuple[DemoLink, ...] = field(default=())


def squash(text: str) -> str:
    """One line of text from a wrapped, indented literal."""
    return " ".join(text.split())


def render_body(text: str) -> str:
    """HTML for a body written in the light markup described above."""
    html = []
    for block in text.strip().split("\n\n"):
        line = squash(block)
        if line.startswith("## "):
            html.append(f"<h2>{escape(line[3:], quote=False)}</h2>")
        elif line.startswith("> "):
            html.append(f"<blockquote><p>{escape(line[2:], quote=False)}</p></blockquote>")
        elif line:
            html.append(f"<p>{escape(line, quote=False)}</p>")
    return "".join(html)


EDITOR_USERNAME = "editor"
# Deliberately public: it is printed by the command, which refuses to run with DEBUG off.
EDITOR_PASSWORD = "editor-demo-2026"  # noqa: S105
EDITORS_GROUP = "Editors"

TOPICS = (
    DemoTopic(
        "technology-ai",
        "Technology & AI",
        "Software, chips and artificial intelligence: who builds it, who regulates it and "
        "what it changes for the people who use it.",
    ),
    DemoTopic(
        "science-health",
        "Science & Health",
        "Research from the lab to the clinic, public health and the evidence behind the headlines.",
    ),
    DemoTopic(
        "politics-policy",
        "Politics & Policy",
        "Parliaments, councils and regulators, and the rules they write for everyone else.",
    ),
    DemoTopic(
        "business",
        "Business",
        "Companies, markets and work: the money behind the news.",
    ),
    DemoTopic(
        "climate",
        "Climate",
        "Energy, weather, land and water: how a warming world is changing and adapting.",
    ),
    DemoTopic(
        "culture",
        "Culture",
        "Books, film, museums and the people who make and keep them.",
    ),
)

AUTHORS = (
    DemoAuthor(
        "lucia-ferrand",
        "Lucia Ferrand",
        "Lucia Ferrand covers European policy and technology regulation from Brussels. "
        "She previously reported on trade for a wire service.",
    ),
    DemoAuthor(
        "maren-castell",
        "Maren Castell",
        "Maren Castell is our technology correspondent. She writes about software, "
        "infrastructure and the companies building AI systems.",
    ),
    DemoAuthor(
        "tobias-adeyemi",
        "Tobias Adeyemi",
        "Tobias Adeyemi is science and health editor. He trained as a biochemist before "
        "moving into journalism.",
    ),
    DemoAuthor(
        "jonah-whitlock",
        "Jonah Whitlock",
        "Jonah Whitlock reports on business, energy and the climate, with a focus on how "
        "the transition plays out in towns and workplaces.",
    ),
)

EU_AI_SLUG = "halvard-labs-refuses-eu-ai-code-of-practice"
RAG_SLUG = "retrieval-augmented-generation-at-scale"
BIOMED_SLUG = "ai-models-reshape-biomedical-research"

ARTICLES = (
    DemoArticle(
        slug=EU_AI_SLUG,
        title="Halvard Labs refuses to sign EU's AI code of practice, setting up a test of "
        "Brussels' new rules",
        standfirst=squash("""
            The fast-growing model developer says the voluntary code for general-purpose AI
            goes beyond what the law requires. Officials say refusing it will not exempt the
            company from the AI Act, only from the easiest route to showing it complies.
        """),
        body="""
            Halvard Labs, the developer behind the Meridian family of large language models,
            said on Tuesday that it would not sign the European Union's code of practice for
            general-purpose AI, becoming the most prominent holdout among companies whose
            models are widely used in Europe.

            The code is voluntary. It was drafted by independent experts with input from
            hundreds of companies, researchers and civil society groups to help providers
            meet the obligations the AI Act places on general-purpose models: documenting how
            a model was built and tested, respecting copyright opt-outs when collecting
            training data, and, for the most capable models, assessing and reducing systemic
            risks.

            In a letter to the European Commission's AI Office, seen by this publication,
            Halvard's chief executive Ines Maraval wrote that the code "adds commitments the
            legislation never asked for" and that its copyright chapter would expose the
            company to "open-ended disclosure of commercially sensitive material".

            ## What refusing actually changes

            Signing the code does not change what the law requires. It gives companies a
            recognised way to demonstrate compliance, and the Commission has said it will
            focus its supervision of signatories on whether they follow the code. Companies
            that do not sign must show by other means that they meet the same obligations,
            and can expect more questions from the AI Office when they do.

            > "Nobody is obliged to sign. Everybody is obliged to comply," an official at
            the AI Office said, speaking on condition of anonymity because the office does
            not comment on individual companies.

            Lawyers who advise AI developers said the decision was a calculated bet that
            the company can document its practices in its own format without being drawn
            into a prolonged dispute. Fines for providers of general-purpose models that
            break the rules can reach three percent of worldwide annual turnover, although
            the Commission's powers to impose them only phase in over the coming year.
            Halvard said it would publish its own compliance framework within weeks.
        """,
        why_it_matters=squash("""
            The code was meant to become the common language between Brussels and the
            companies building the most widely used AI models. If a major developer can
            stay outside it and still sell in Europe, others may follow, and the AI Office's
            first real enforcement cases will decide how much the voluntary route is worth.
        """),
        impact_score=68,
        topics=("technology-ai", "politics-policy"),
        author="lucia-ferrand",
        hours=3,
        related=(DemoLink(article=RAG_SLUG), DemoLink(article=BIOMED_SLUG)),
    ),
    DemoArticle(
        slug="city-council-approves-four-day-week-pilot",
        title="City council approves a four-day week pilot for 600 municipal staff",
        standfirst=squash("""
            Workers in libraries, planning and parks will keep their pay while working 32
            hours a week for a year. Opponents on the council say residents will pay for it
            in slower services.
        """),
        body="""
            The council voted 31 to 24 on Monday night to let about 600 employees in three
            departments work four days a week without a cut in pay, in a trial that starts
            in the spring and runs for twelve months.

            Council leader Priya Sandhu said the pilot was a response to staff shortages
            rather than a perk. Planning officers have been leaving for better-paid jobs in
            the private sector, she said, and vacancies have added weeks to decisions on
            building applications.

            Departments in the pilot must keep their opening hours and meet the same targets
            for response times. An independent team from the regional university will
            compare them with departments outside the trial, using sickness absence, staff
            turnover and the time taken to answer residents as its main measures.

            The opposition group said the vote had been rushed and that the cost of cover
            staff had not been properly counted. Its finance spokesman asked for the results
            to be published every quarter, a demand the council accepted.
        """,
        why_it_matters=squash("""
            Shorter-week trials have so far mostly been run by private companies. A public
            employer with fixed service standards will show whether the model survives
            contact with opening hours, statutory deadlines and tight budgets.
        """),
        impact_score=41,
        topics=("politics-policy", "business"),
        author="jonah-whitlock",
        hours=9,
    ),
    DemoArticle(
        slug="heatwave-pushes-grid-demand-to-record",
        title="Heatwave pushes electricity demand to a summer record as air conditioning spreads",
        standfirst=squash("""
            Grid operators called on reserve plants for the first time this year as
            evening demand peaked after solar output faded. No outages were reported.
        """),
        body="""
            Electricity demand reached its highest level ever recorded for the summer months
            on Wednesday evening, as temperatures stayed above 30C well after sunset across
            much of the country.

            The grid operator said the peak arrived around 8pm, when households were running
            air conditioning and cooking while solar panels were producing little. It
            activated two gas-fired reserve units and paid large users to reduce their
            consumption for two hours.

            Engineers have warned for several years that the summer evening peak would
            become the grid's pressure point as homes install heat pumps that also cool.
            Battery storage covered about a tenth of demand at the peak, more than double
            the share a year ago.

            The operator said the system had enough margin and that it expected similar
            peaks for the rest of the week. It asked households to run washing machines and
            dishwashers in the middle of the day where they could.
        """,
        why_it_matters=squash("""
            Summer used to be the easy season for the grid. A new evening peak changes which
            investments matter most: storage and demand flexibility rather than more daytime
            generation.
        """),
        impact_score=57,
        topics=("climate", "business"),
        author="jonah-whitlock",
        hours=20,
        related=(
            DemoLink(article="battery-recycling-plant-opens"),
            DemoLink(
                url="https://example.org/explainers/how-the-grid-balances-supply-and-demand",
                title="Explainer: how the grid balances supply and demand",
                summary="A plain-language guide to reserve plants, demand response and why "
                "the hardest hour of the day keeps moving.",
            ),
        ),
    ),
    DemoArticle(
        slug=RAG_SLUG,
        title="What it takes to run retrieval-augmented generation at scale",
        standfirst=squash("""
            Connecting a language model to a company's own documents looks simple in a demo.
            Engineers who have run it for millions of queries say the hard parts are search
            quality, freshness and knowing when the system is wrong.
        """),
        body="""
            Retrieval-augmented generation, usually shortened to RAG, has become the default
            way for companies to put a language model in front of their own information.
            Instead of retraining a model, the system searches a document store for passages
            relevant to a question and hands them to the model along with the question.

            At small scale the approach is forgiving. At a logistics company that now answers
            about two million internal questions a month this way, the engineering lead,
            Kofi Brandt, said the team spent far more time on search than on the model.
            "Most bad answers were bad retrieval," he said. "The model was faithfully
            summarising the wrong document."

            ## Freshness and permissions

            Two problems grow with size. Documents change, so the index has to be updated
            continuously, and stale passages quietly produce confident, outdated answers.
            And not everyone may read everything: the search step must respect the same
            access rights as the original systems, or the assistant becomes a way around
            them.

            Teams that run these systems in production describe a similar set of practices:
            mixing keyword and semantic search, keeping a set of real questions with known
            answers to test every change against, showing users the sources behind each
            answer, and letting the system say it does not know.

            Costs have fallen as models have become cheaper to run, but several engineers
            said the largest bill is now the search infrastructure and the people who tend
            it, not the model itself.
        """,
        why_it_matters=squash("""
            Most workplace AI assistants are built this way. Whether they can be trusted
            depends less on which model is used than on unglamorous engineering: search,
            access control and testing.
        """),
        impact_score=52,
        topics=("technology-ai", "business"),
        author="maren-castell",
        hours=30,
        related=(
            DemoLink(article=BIOMED_SLUG),
            DemoLink(
                url="https://example.org/guides/evaluating-retrieval-systems",
                title="A field guide to evaluating retrieval systems",
                summary="How to build a test set of real questions, measure search quality "
                "and catch regressions before users do.",
            ),
        ),
    ),
    DemoArticle(
        slug=BIOMED_SLUG,
        title="AI models are reshaping how biomedical labs choose their experiments",
        standfirst=squash("""
            From protein design to screening drug candidates, machine-learning tools now
            decide which experiments are worth running. Researchers say the gains are real
            but that the lab bench remains the final judge.
        """),
        body="""
            At a structural biology lab on the edge of the university campus, the freezer
            holds hundreds of protein samples that were designed on a computer before anyone
            touched a pipette. Five years ago, said the lab's director, Dr Hanna Okafor,
            most of them would have been chosen by intuition and trial and error.

            Models trained on known protein structures can now predict the shape of a new
            sequence in minutes. Other tools propose molecules likely to bind a target, or
            flag which compounds in a library of millions deserve a closer look. The effect,
            researchers say, is less a replacement for experiments than a much better way of
            choosing them.

            > "We still make the protein and we still measure it. What has changed is how
            many dead ends we skip," Dr Okafor said.

            The tools have limits. Predictions are weakest for exactly the unusual molecules
            that researchers most want to find, and several groups have reported candidates
            that looked excellent on screen and failed in the first assay. Funders are now
            asking for experimental validation to be reported alongside computational
            claims.

            Access is another concern. The largest models require computing power that few
            academic labs have, and some of the best-performing tools are available only
            through commercial licences.
        """,
        why_it_matters=squash("""
            Choosing better experiments shortens the path from an idea to a tested
            treatment. How openly these tools are shared will shape which labs, and which
            diseases, benefit first.
        """),
        impact_score=61,
        topics=("science-health", "technology-ai"),
        author="tobias-adeyemi",
        hours=44,
        related=(DemoLink(article=RAG_SLUG),),
    ),
    DemoArticle(
        slug="regional-hospitals-share-waiting-list-data",
        title="Regional hospitals agree to pool waiting lists to cut delays for surgery",
        standfirst=squash("""
            Patients waiting for hip and knee operations could be offered a date at a
            neighbouring hospital under a shared booking system that starts next month.
        """),
        body="""
            Five hospitals in the region will combine their waiting lists for routine
            orthopaedic surgery, letting patients who have waited longest be offered an
            operation wherever a theatre slot is free.

            Waits for hip and knee replacements vary widely between the hospitals, from
            under four months at one to more than a year at another. Health officials said
            pooling the lists could bring the longest waits down by a third within a year
            without adding theatre capacity.

            Patients will be able to refuse a transfer without losing their place. The
            hospitals will cover travel costs for those who accept, and follow-up
            appointments will take place closer to home.

            Patient groups welcomed the plan but warned that older people without cars could
            be less able to take up offers further away, widening gaps rather than closing
            them.
        """,
        why_it_matters=squash("""
            Shared lists use capacity that already exists. If the region's results hold up,
            the model is likely to be copied for other routine procedures.
        """),
        impact_score=47,
        topics=("science-health", "politics-policy"),
        author="tobias-adeyemi",
        hours=56,
    ),
    DemoArticle(
        slug="seed-funding-slows-for-startups",
        title="Seed funding for young startups falls for a third straight quarter",
        standfirst=squash("""
            Investors are writing fewer, larger cheques to companies with paying customers,
            leaving first-time founders to rely on grants, angels and their own savings.
        """),
        body="""
            The number of seed rounds closed by startups fell by 14 percent in the last
            quarter compared with a year earlier, according to figures compiled by an
            industry association of early-stage investors.

            The total amount invested fell by less, because the average round grew. Investors
            said they were concentrating on companies that already had revenue, and that
            rounds for AI products made up almost half of the money committed.

            Founders outside the largest cities have been hit hardest. Several regional
            accelerator programmes said their graduates were taking longer to raise a first
            round, and that more were turning to public innovation grants.

            Some investors argued the slowdown was a healthy correction after years of easy
            money. Others warned that fewer seed rounds now would mean fewer mature
            companies to invest in five years from now.
        """,
        why_it_matters=squash("""
            Seed rounds are where new companies, and most new jobs in technology, begin. A
            prolonged drought changes who gets to start a company, not only how many do.
        """),
        impact_score=38,
        topics=("business", "technology-ai"),
        author="maren-castell",
        hours=70,
    ),
    DemoArticle(
        slug="river-restoration-brings-back-salmon",
        title="Salmon return to upper river three years after weirs were removed",
        standfirst=squash("""
            Volunteers counted spawning salmon above the old mill town for the first time in
            living memory, a sign that one of the region's largest river restoration
            projects is working.
        """),
        body="""
            Survey teams recorded 46 salmon nests in gravel beds upstream of the town this
            autumn, in stretches of river that fish had been unable to reach since a series
            of weirs was built to power textile mills two centuries ago.

            The weirs were removed three years ago after a long consultation with
            landowners, anglers and residents worried about flooding. Engineers replaced
            them with rock ramps and restored bends in the channel that had been
            straightened.

            Ecologists cautioned that one good year does not make a recovery. Salmon numbers
            depend on conditions at sea as well as in the river, and warm, low summer flows
            remain a threat to young fish.

            The project trust said it would now plant trees along the banks to shade the
            water and keep it cool.
        """,
        why_it_matters=squash("""
            Thousands of old barriers block rivers across the continent. Evidence that
            removing them brings fish back quickly strengthens the case for doing it
            elsewhere.
        """),
        impact_score=44,
        topics=("climate", "science-health"),
        author="jonah-whitlock",
        hours=80,
    ),
    DemoArticle(
        slug="national-library-digitises-newspaper-archive",
        title="National library puts two centuries of local newspapers online",
        standfirst=squash("""
            More than four million pages are now searchable for free, from parish notices to
            football reports, after a decade of scanning.
        """),
        body="""
            The national library has opened a free online archive of local newspapers
            published between 1800 and 1999, the result of a scanning programme that began
            ten years ago with a handful of titles.

            Text recognition lets readers search the full text of every page, although
            librarians warned that older, faded print produces errors and that some names
            will only be found by browsing.

            Historians said local papers record what national ones ignored: markets,
            weddings, strikes, floods and the ordinary business of town councils. Family
            historians are expected to be the heaviest users.

            Titles published in the last seventy years remain available only in the library's
            reading rooms while rights are cleared with publishers.
        """,
        why_it_matters=squash("""
            Local history has often depended on who could travel to an archive. Putting it
            online makes it available to schools, researchers and families everywhere.
        """),
        impact_score=29,
        topics=("culture", "technology-ai"),
        author="maren-castell",
        hours=96,
    ),
    DemoArticle(
        slug="battery-recycling-plant-opens",
        title="First large battery recycling plant opens, promising to recover most of the metals",
        standfirst=squash("""
            The plant can process batteries from about 20,000 electric cars a year and sell
            the lithium, nickel and cobalt back to manufacturers.
        """),
        body="""
            A battery recycling plant opened on Thursday on the site of a former paper mill,
            the first in the country able to handle car batteries at industrial scale.

            The operator, Cirrus Materials, said its process recovers more than 90 percent of
            the nickel and cobalt and about 80 percent of the lithium, which are sold back to
            cell makers. Until now most used batteries have been shipped abroad for
            treatment.

            Only a small number of electric cars have reached the end of their lives so far,
            so the plant will initially rely on scrap from battery factories. The company
            expects volumes from old vehicles to grow sharply by the end of the decade.

            The plant employs 140 people. Local officials said it would help make up for
            jobs lost when the paper mill closed.
        """,
        why_it_matters=squash("""
            Recycling reduces the need for new mining and keeps valuable metals in the
            local economy. It also tests whether new rules on recycled content in batteries
            can be met.
        """),
        impact_score=49,
        topics=("climate", "business"),
        author="jonah-whitlock",
        hours=110,
    ),
    DemoArticle(
        slug="online-safety-bill-amendments-debated",
        title="MPs clash over age checks as online safety bill returns to parliament",
        standfirst=squash("""
            Amendments would require platforms to verify the age of users before showing
            certain content. Privacy campaigners say the checks would create new risks of
            their own.
        """),
        body="""
            The online safety bill returned to the floor of parliament on Tuesday with more
            than forty amendments, the most contested of which would oblige large platforms
            to check users' ages before they can view content rated for adults.

            Supporters said self-declared ages were meaningless and that children were
            routinely exposed to harmful material. Opponents argued that checks based on
            identity documents or face scans would create databases that could be breached
            or misused.

            The minister responsible said the government was open to technical standards
            that keep verification separate from the platforms, so that a site learns only
            whether a user is old enough, not who they are.

            A final vote is expected before the end of the session.
        """,
        why_it_matters=squash("""
            How age checks are designed will affect every adult who uses the largest
            platforms, not only children, and could set a template for other countries.
        """),
        impact_score=55,
        topics=("politics-policy", "technology-ai"),
        author="lucia-ferrand",
        hours=125,
    ),
    DemoArticle(
        slug="measles-vaccination-catch-up-campaign",
        title="Health authorities launch measles catch-up campaign as cases rise",
        standfirst=squash("""
            Clinics will offer walk-in vaccinations in schools and shopping centres after
            uptake of the second dose fell below the level needed to stop outbreaks.
        """),
        body="""
            Public health officials announced a six-week campaign to vaccinate children and
            young adults who missed one or both doses of the measles vaccine, after cases
            this year reached their highest level in a decade.

            Uptake of the second dose by age five has fallen to 86 percent, below the 95
            percent experts consider necessary to prevent the virus spreading. Officials
            said the drop was concentrated in a few districts, where pop-up clinics will be
            focused.

            Doctors said most missed doses were due to practical barriers, such as
            appointment times and moving house, rather than opposition to vaccination.

            Parents can check their child's record through the health service app or by
            calling their surgery.
        """,
        why_it_matters=squash("""
            Measles is one of the most contagious diseases known and can cause serious
            complications. Closing gaps now is far cheaper than containing outbreaks later.
        """),
        impact_score=58,
        topics=("science-health",),
        author="tobias-adeyemi",
        hours=140,
    ),
    DemoArticle(
        slug="independent-bookshops-rebound",
        title="Independent bookshops report a second year of growth",
        standfirst=squash("""
            Events, reading groups and a loyal local following have helped small shops
            recover, even as rents and energy bills climb.
        """),
        body="""
            The number of independent bookshops rose for the second year running, according
            to the booksellers' association, with 38 new shops opening and 21 closing.

            Owners said customers valued recommendations and a place to meet. Many now run
            author evenings, children's reading hours and book clubs that bring people back
            every month.

            Margins remain thin. Several owners said energy and rent had risen faster than
            sales, and that they depended on a few busy weeks before the holidays to stay
            profitable.

            The association called on councils to offer reduced business rates for shops
            that host community events.
        """,
        why_it_matters=squash("""
            Independent shops help keep high streets alive and give new writers a route to
            readers that does not depend on algorithms.
        """),
        impact_score=22,
        topics=("culture", "business"),
        author="maren-castell",
        hours=160,
    ),
    DemoArticle(
        slug="chipmaker-expands-packaging-plant",
        title="Chipmaker to double its advanced packaging plant in a bet on AI demand",
        standfirst=squash("""
            The expansion will add 400 jobs and focus on stacking chips together, a step in
            manufacturing that has become a bottleneck for AI hardware.
        """),
        body="""
            Semiconductor company Vantor said it would invest in doubling the size of its
            packaging plant over the next three years, adding clean rooms for assembling
            several chips into a single package.

            Packaging used to be the cheap final stage of chip manufacturing. Processors used
            for AI now combine computing chips and high-bandwidth memory in one package, and
            the specialised capacity needed to do that has been in short supply.

            The company said about a quarter of the cost would be covered by a government
            programme to support domestic chip manufacturing. It did not say which
            customers had committed to the new capacity.

            Analysts said the investment was a sign that companies expect demand for AI
            hardware to last, but warned that the industry has a history of building too
            much capacity at the top of a cycle.
        """,
        why_it_matters=squash("""
            Packaging is one of the choke points in the AI supply chain. Where that capacity
            is built affects both jobs and how exposed the industry is to disruption.
        """),
        impact_score=46,
        topics=("business", "technology-ai"),
        author="maren-castell",
        hours=180,
    ),
    DemoArticle(
        slug="urban-trees-cooling-study",
        title="Streets with mature trees stay up to 6C cooler, city-wide study finds",
        standfirst=squash("""
            Researchers used sensors on buses to map temperatures across the city for two
            summers. The coolest streets were not the greenest on paper but those with the
            largest canopies.
        """),
        body="""
            Temperature sensors mounted on a fleet of city buses recorded more than twenty
            million readings over two summers, giving researchers a detailed picture of how
            heat builds up street by street.

            On the hottest afternoons, streets lined with large, mature trees were up to 6C
            cooler at pavement level than similar streets without them. Small newly planted
            trees and lawns made little difference.

            The researchers said the findings argued for protecting existing trees during
            building work and for planting species that grow wide canopies, even though they
            cost more to maintain.

            The city council said it would use the heat map to decide where to plant first,
            starting with neighbourhoods with the most older residents.
        """,
        why_it_matters=squash("""
            Heat is the deadliest weather hazard in many cities. Knowing which streets are
            hottest lets councils spend limited budgets where they protect the most people.
        """),
        impact_score=39,
        topics=("climate", "science-health"),
        author="tobias-adeyemi",
        hours=200,
    ),
    DemoArticle(
        slug="open-source-maintainers-fund",
        title="New public fund will pay maintainers of widely used open-source software",
        standfirst=squash("""
            A pilot fund will pay developers to fix security issues and keep critical
            libraries up to date, work that has long depended on volunteers.
        """),
        body="""
            The government's digital agency launched a fund to pay maintainers of
            open-source projects that public services depend on, after a review found that
            dozens of critical components were looked after by one or two unpaid people.

            Maintainers can apply for contracts to fix known security problems, improve
            documentation and test new releases. The first round will support about thirty
            projects.

            Developers welcomed the fund but said one-off contracts were not enough, and
            that long-term maintenance was what most projects lacked.
        """,
        why_it_matters=squash("""
            Almost all software, public and private, is built on open-source components.
            When maintainers burn out, security problems go unfixed for everyone.
        """),
        impact_score=33,
        topics=("technology-ai",),
        author="maren-castell",
        hours=220,
    ),
    DemoArticle(
        slug="central-bank-holds-rates",
        title="Central bank holds interest rates and signals cuts are not imminent",
        standfirst=squash("""
            Policymakers said inflation was falling but that wage growth and service prices
            remained too strong to start lowering borrowing costs.
        """),
        body="""
            The central bank kept its main interest rate unchanged on Thursday, in a
            decision that financial markets had widely expected, but pushed back against
            hopes of a cut in the coming months.

            Inflation fell to 2.9 percent last month, its lowest level in three years, but
            the bank said prices of services such as rents, insurance and restaurant meals
            were still rising quickly. Wage growth has slowed only gradually.

            Two of the nine members of the rate-setting committee voted for a cut, saying
            that weaker hiring and falling business confidence pointed to a slowing
            economy.

            Mortgage lenders said fixed rates were unlikely to change much in response.
        """,
        why_it_matters=squash("""
            Borrowing costs affect mortgages, business investment and government debt
            alike. A longer wait for cuts keeps pressure on households refinancing this
            year.
        """),
        impact_score=63,
        topics=("business", "politics-policy"),
        author="jonah-whitlock",
        hours=245,
    ),
    DemoArticle(
        slug="museum-returns-artefacts",
        title="Museum agrees to return ceremonial objects taken during colonial rule",
        standfirst=squash("""
            Twelve objects will go back to the communities they came from after a two-year
            review of how they entered the collection.
        """),
        body="""
            The city museum's trustees voted to return twelve ceremonial objects to their
            communities of origin, following research that found they had been removed
            without consent during colonial rule.

            The objects include carved masks and a ceremonial staff. The museum said it had
            worked with community representatives to decide how they would be transported
            and received.

            The director said the museum would publish the research behind each decision and
            continue to review other parts of the collection. Critics on the city council
            asked how many further claims the museum expected and what they would cost.
        """,
        why_it_matters=squash("""
            Museums across the continent are reviewing how their collections were formed.
            Decisions like this one set expectations for how such reviews end.
        """),
        impact_score=36,
        topics=("culture", "politics-policy"),
        author="lucia-ferrand",
        hours=270,
    ),
    DemoArticle(
        slug="teenagers-sleep-later-school-start",
        title="Later school start gave teenagers 40 minutes more sleep, trial shows",
        standfirst=squash("""
            Pupils at schools that moved their first lesson to 9:30 slept longer and
            reported feeling less tired, though the effect on grades was small.
        """),
        body="""
            A trial involving twenty secondary schools found that pupils whose school day
            started an hour later slept on average 40 minutes more on school nights, as
            measured by wrist-worn devices.

            Teenagers' body clocks shift later during adolescence, making early starts
            particularly hard. Pupils in the trial schools reported less daytime sleepiness
            and better mood than those in comparison schools.

            Exam results improved slightly, but the difference was within the margin of
            error. Researchers said a longer trial would be needed to measure effects on
            attainment.

            Schools in the trial said the main difficulty was transport, as bus timetables
            had to be changed.
        """,
        why_it_matters=squash("""
            Sleep affects mental health, safety and learning. A change that costs little
            beyond rearranging timetables could benefit many pupils.
        """),
        impact_score=42,
        topics=("science-health",),
        author="tobias-adeyemi",
        hours=295,
    ),
    DemoArticle(
        slug="offshore-wind-auction-results",
        title="Offshore wind auction secures record capacity at lower prices",
        standfirst=squash("""
            Developers won contracts for enough capacity to power several million homes,
            after the government raised the price ceiling that had put bidders off last
            year.
        """),
        body="""
            The government's latest renewable energy auction awarded contracts for nearly 9
            gigawatts of offshore wind, the largest amount in a single round.

            Last year's auction attracted no offshore wind bids at all, after developers said
            the maximum price did not cover higher costs for turbines and financing. This
            year's ceiling was raised, but winning bids still came in well below it.

            The projects are due to start generating between 2029 and 2031. Grid connections
            remain the main risk: several of the sites depend on new cables that have not
            yet received planning permission.

            Industry groups said the result restored confidence, while consumer groups noted
            that contract prices are guaranteed for fifteen years and will show up on bills.
        """,
        why_it_matters=squash("""
            Offshore wind is central to plans for a low-carbon grid. The auction shows how
            much price certainty investors need before committing.
        """),
        impact_score=59,
        topics=("climate", "business", "politics-policy"),
        author="jonah-whitlock",
        hours=320,
        related=(DemoLink(article="heatwave-pushes-grid-demand-to-record"),),
    ),
    DemoArticle(
        slug="local-news-cooperative-launch",
        title="Readers buy shares to save their local paper",
        standfirst=squash("""
            More than 2,000 residents have become members of a cooperative that will take
            over the weekly title its owner planned to close.
        """),
        body="""
            A community cooperative has raised enough money from readers to buy the town's
            weekly newspaper, which its publisher had said would close at the end of the
            month.

            Each member holds one vote regardless of how many shares they buy. The
            cooperative will keep the paper's four journalists and plans to hire a fifth to
            cover council meetings and the magistrates' court.

            Founders said the paper would move to a membership model online while keeping a
            printed edition for readers who prefer it.
        """,
        why_it_matters=squash("""
            Hundreds of towns have lost their local paper. Reader ownership is one of the
            few models showing that local reporting can be sustained.
        """),
        impact_score=27,
        topics=("culture", "business"),
        author="lucia-ferrand",
        hours=350,
    ),
    DemoArticle(
        slug="quantum-sensor-navigation-trial",
        title="Quantum sensors guide a ship without satellite signals in sea trial",
        standfirst=squash("""
            A research vessel navigated for a week using instruments that measure tiny
            changes in motion and gravity, a possible backup for jammed satellite systems.
        """),
        body="""
            Researchers reported that a quantum navigation system kept a research vessel's
            position accurate to within a few hundred metres over a week at sea, without
            using satellite signals.

            The system uses clouds of cooled atoms to measure acceleration and rotation far
            more precisely than conventional sensors, reducing the drift that makes
            navigation without satellites inaccurate over time.

            Interference with satellite navigation signals has become more common near
            conflict zones, affecting shipping and aviation. The team said the equipment
            remains too large and expensive for most vessels, but should shrink over the
            next decade.
        """,
        why_it_matters=squash("""
            Much of modern transport depends on satellite positioning. A reliable backup
            would make shipping and aviation less vulnerable to jamming.
        """),
        impact_score=35,
        topics=("technology-ai", "science-health"),
        author="maren-castell",
        hours=380,
    ),
    DemoArticle(
        slug="housing-permits-reform",
        title="Government proposes faster permits for homes near train stations",
        standfirst=squash("""
            Developments of up to six storeys near stations would be approved by default if
            they meet design rules, under plans published for consultation.
        """),
        body="""
            Housing ministers published plans to speed up approval for new homes within
            walking distance of railway stations, in an attempt to increase building where
            residents can travel without a car.

            Under the proposal, applications that meet a national design code would be
            approved unless the council finds a specific problem within eight weeks.
            Councils could still require affordable housing and contributions to local
            infrastructure.

            Council leaders said the plans would weaken local democracy, while housing
            charities said the change was overdue. The consultation runs for twelve weeks.
        """,
        why_it_matters=squash("""
            Housing shortages push up rents and prices. Building near transport could add
            homes without adding traffic, if councils and residents accept it.
        """),
        impact_score=54,
        topics=("politics-policy", "business"),
        author="lucia-ferrand",
        hours=410,
    ),
    DemoArticle(
        slug="antibiotic-resistance-surveillance",
        title="Wastewater testing to track antibiotic resistance across the country",
        standfirst=squash("""
            Samples from sewage plants will be tested weekly for resistance genes, giving
            early warning of spreading infections that are hard to treat.
        """),
        body="""
            Health authorities will extend a wastewater monitoring programme, first set up
            during the pandemic, to track genes that make bacteria resistant to antibiotics.

            Sewage from treatment plants serving about 70 percent of the population will be
            tested every week. Scientists said the data would show where resistant
            infections were rising before they appeared in hospital records.

            Antibiotic resistance already complicates treatment for common infections.
            Officials said the programme would help target prescribing guidance and
            infection control where it was needed most.

            Privacy experts said the data would be aggregated and could not identify
            households.
        """,
        why_it_matters=squash("""
            Resistant infections are a growing cause of death worldwide. Earlier warning
            gives doctors and hospitals time to respond.
        """),
        impact_score=60,
        topics=("science-health",),
        author="tobias-adeyemi",
        hours=440,
    ),
    DemoArticle(
        slug="film-festival-ai-disclosure-rules",
        title="Film festival asks entrants to disclose use of generative AI",
        standfirst=squash("""
            Directors will have to say whether AI tools were used for scripts, images or
            voices. The festival says it will not ban such films outright.
        """),
        body="""
            The city film festival said entrants must state whether generative AI was used
            in any part of their work, from writing to visual effects, in a new section of
            its submission form.

            The festival's director said the aim was transparency for juries and audiences,
            not exclusion. Films using AI-generated performances will need written consent
            from any person whose likeness or voice was imitated.

            Some independent filmmakers said the tools had made ambitious projects
            affordable. Actors' representatives welcomed the consent rule.
        """,
        why_it_matters=squash("""
            Cultural institutions are writing their own rules for AI before laws catch up.
            Disclosure requirements like this may become standard across festivals.
        """),
        impact_score=31,
        topics=("culture", "technology-ai"),
        author="lucia-ferrand",
        hours=470,
    ),
    DemoArticle(
        slug="drought-farmers-water-sharing",
        title="Farmers agree to share water as drought tightens restrictions",
        standfirst=squash("""
            Growers in the river valley will pool their extraction licences so that crops
            with the most value per litre are watered first.
        """),
        body="""
            Farmers in the valley have agreed a voluntary water-sharing scheme for the rest
            of the summer, after the environment agency warned that extraction from the
            river could be suspended if flows fall further.

            Under the agreement, licence holders can transfer unused allowances to
            neighbours, and all members will cut abstraction by a fifth during the driest
            weeks.

            Farmers said the arrangement protected vegetable crops that would be lost
            without water, while cereal growers accepted lower yields. The agency said it
            would monitor river levels daily.
        """,
        why_it_matters=squash("""
            Droughts are becoming more frequent. Local agreements may prove faster and
            fairer than blanket bans imposed from outside.
        """),
        impact_score=52,
        topics=("climate", "politics-policy"),
        author="jonah-whitlock",
        hours=500,
    ),
    DemoArticle(
        slug="public-transport-fare-cap-results",
        title="Bus fare cap brought back riders, a year of data shows",
        standfirst=squash("""
            Journeys rose by 11 percent after single fares were capped, with the largest
            increases outside peak hours and in smaller towns.
        """),
        body="""
            A year after single bus fares across the region were capped, passenger numbers
            have risen by 11 percent, according to figures published by the transport
            authority.

            The increase was largest on weekends and in the middle of the day, suggesting
            that people were using buses for shopping and leisure trips they would
            previously have made by car or not at all.

            The cap costs the authority about a fifth more in subsidy than forecast. Its
            board will decide next month whether to extend it.
        """,
        why_it_matters=squash("""
            Transport is a large source of emissions and a large cost for households. The
            results show how price affects whether people choose the bus.
        """),
        impact_score=45,
        topics=("politics-policy", "climate"),
        author="jonah-whitlock",
        hours=540,
    ),
    DemoArticle(
        slug="deepfake-election-ad-labels",
        title="Electoral commission to require labels on AI-generated campaign ads",
        standfirst=squash("""
            Parties and campaigners will have to mark images, video and audio created or
            altered with AI, under guidance that takes effect before the next election.
        """),
        body="""
            The electoral commission published guidance requiring campaign material that
            uses AI-generated or substantially altered images, video or audio to carry a
            clear label.

            The rules apply to parties, candidates and registered campaigners. Material
            that depicts a real person saying or doing something they did not will have to
            say so prominently.

            The commission admitted it had limited power over anonymous accounts and foreign
            actors, and asked platforms to apply the same standard to content they host.
        """,
        why_it_matters=squash("""
            Convincing fakes are now cheap to make. Labels will not stop all deception, but
            they set a standard that legitimate campaigns can be held to.
        """),
        impact_score=57,
        topics=("politics-policy", "technology-ai"),
        author="lucia-ferrand",
        hours=580,
    ),
    # Editors should see every state in the admin: two drafts and one scheduled story.
    DemoArticle(
        slug="standardising-ai-model-evaluations",
        title="Inside the effort to standardise how AI models are tested",
        standfirst=squash("""
            Regulators, labs and researchers agree that models need common tests. They do
            not yet agree on what those tests should measure.
        """),
        body="""
            DRAFT: Most claims about AI models rest on benchmarks chosen by the company that
            built them. A group of standards bodies is trying to change that.

            Still to do: interviews with two evaluation researchers and the standards body's
            chair; check figures on the number of published benchmarks.
        """,
        why_it_matters=squash("""
            Without common tests, regulators and buyers have to take developers' word for
            what their systems can do.
        """),
        impact_score=40,
        topics=("technology-ai",),
        author="maren-castell",
        state="draft",
    ),
    DemoArticle(
        slug="coastal-towns-weigh-managed-retreat",
        title="Coastal towns weigh moving homes back from eroding cliffs",
        standfirst=squash("""
            As the sea advances, councils are asking whether to defend the coastline or
            help residents relocate.
        """),
        body="""
            DRAFT: Three homes on the north cliff were demolished this spring after the edge
            came within ten metres of their foundations.

            Still to do: council figures on defence costs; residents' meeting on Thursday.
        """,
        why_it_matters=squash("""
            Erosion is accelerating along much of the coast, and no national scheme yet pays
            for people to move.
        """),
        impact_score=48,
        topics=("climate",),
        author="jonah-whitlock",
        state="draft",
    ),
    DemoArticle(
        slug="new-curriculum-what-parents-need-to-know",
        title="New curriculum: what parents need to know before the school year",
        standfirst=squash("""
            Changes to maths, reading and computing lessons start in September. Here is
            what will be different, year by year.
        """),
        body="""
            The new national curriculum takes effect at the start of the school year, with
            the largest changes in maths and computing.

            Primary pupils will spend more time on arithmetic fluency and reading aloud.
            Secondary computing lessons will include data and AI literacy alongside
            programming.

            Schools have been given guidance and training materials, but teachers' unions
            say the timetable has left little time to prepare.
        """,
        why_it_matters=squash("""
            The curriculum shapes what every child learns for years. Parents who know what
            is changing can better support it at home.
        """),
        impact_score=34,
        topics=("politics-policy", "culture"),
        author="lucia-ferrand",
        state="scheduled",
        hours=36,
    ),
)
